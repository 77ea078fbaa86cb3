#![no_main]
//! Every version scheme's validate/compare and every constraint syntax's
//! parse/satisfies on arbitrary strings: errors are values, never panics.
use libfuzzer_sys::fuzz_target;
use moat_version::{Constraint, Scheme, Syntax, compare, validate};

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = moat_fuzz::pick(data, 12) else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    // Split the input into up to three strings on NUL bytes.
    let mut parts = text.split('\0');
    let a = parts.next().unwrap_or("");
    let b = parts.next().unwrap_or("1.0");
    let c = parts.next().unwrap_or("");
    if sel < 8 {
        let scheme = Scheme::ALL[sel];
        let _ = validate(scheme, a);
        let _ = validate(scheme, b);
        if let (Ok(x), Ok(y)) = (compare(scheme, a, b), compare(scheme, b, a)) {
            assert_eq!(
                x,
                y.reverse(),
                "{scheme}: compare({a:?}, {b:?}) not antisymmetric"
            );
        }
        let _ = compare(scheme, a, a);
        let _ = Constraint::parse(Syntax::Generic(scheme), c).map(|k| k.satisfies(a));
    } else {
        let syntax = [Syntax::Npm, Syntax::Cargo, Syntax::Pep440, Syntax::Gem][sel - 8];
        if let Ok(k) = Constraint::parse(syntax, a) {
            let _ = k.satisfies(b);
            let _ = k.satisfies(c);
            let _ = k.as_str();
        }
    }
});
