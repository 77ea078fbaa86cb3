use std::sync::Arc;
use std::sync::atomic::AtomicBool;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut o = moat_monitor::Options::new(&args[1], std::path::PathBuf::from(&args[2]));
    o.duration = Some(std::time::Duration::from_secs(args[3].parse().unwrap()));
    let rules = moat_monitor::rules::RuleSet::default_rules().unwrap();
    let mut sinks: Vec<Box<dyn moat_monitor::AlertSink>> = vec![Box::new(moat_monitor::output::WriterSink::new("o", Box::new(std::io::stdout()), moat_monitor::output::LineFormat::Text))];
    let st = moat_monitor::run(&o, &rules, &mut sinks, Arc::new(AtomicBool::new(false))).unwrap();
    println!("{st:?}");
}
