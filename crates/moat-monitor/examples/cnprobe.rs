use neli::connector::{CnMsg, CnMsgBuilder, ProcEvent, ProcEventHeader};
use neli::consts::connector::{CnMsgIdx, CnMsgVal, ProcCnMcastOp};
use neli::consts::nl::{NlmF, Nlmsg};
use neli::consts::socket::NlFamily;
use neli::nl::{NlPayload, NlmsghdrBuilder};
use neli::socket::synchronous::NlSocketHandle;
use neli::utils::Groups;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pid = std::process::id();
    let socket = NlSocketHandle::connect(NlFamily::Connector, None, Groups::new_bitmask(CnMsgIdx::Proc.into()))?;
    let subscribe = NlmsghdrBuilder::default().nl_type(Nlmsg::Done).nl_flags(NlmF::empty()).nl_pid(pid)
        .nl_payload(NlPayload::Payload(CnMsgBuilder::default().idx(CnMsgIdx::Proc).val(CnMsgVal::Proc).payload(ProcCnMcastOp::Listen).build()?)).build()?;
    socket.send(&subscribe)?;
    for _ in 0..20 {
        let (msgs, _) = socket.recv::<Nlmsg, CnMsg<ProcEventHeader>>()?;
        for m in msgs {
            match m {
                Ok(m) => { if let Some(cn) = m.get_payload() { if let ProcEvent::Exec{process_pid, ..} = cn.payload().event { println!("exec {process_pid} seq {}", cn.seq()); } else { println!("other {:?}", cn.payload().event); } } else { println!("no payload {:?}", m.nl_type()); } }
                Err(e) => println!("err {e}"),
            }
        }
    }
    Ok(())
}
