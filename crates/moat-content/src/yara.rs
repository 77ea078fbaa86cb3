//! A YARA subset, enough for the bundled rules and for plain user rules:
//!
//! - `rule NAME [: tags] { meta: … strings: … condition: … }`, `private`/`global`
//!   accepted and ignored, `//` and `/* */` comments; no `import`, no modules.
//! - strings: text (`"…"` with `\\ \" \n \r \t \xHH`; modifiers `nocase`, `ascii`,
//!   `wide`, `fullword`), hex (`{ 4D 5A ?? [2-4] ( 90 | 91 ) }`), regex (`/…/is`).
//! - condition: `and`, `or`, `not`, parentheses, `true`, `false`, `$a`, `$a at N`,
//!   `$a in (N..M)`, `#a OP N`, `any|all|N of them`, `any|all|N of ($a, $b*)`,
//!   `filesize OP N[KB|MB]`, `uint8|uint16|uint32[be](N) OP N`.
//!
//! Anything else is a parse error naming the rule and the token, never a silent skip.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use regex_automata::meta::Regex as MetaRegex;
use regex_automata::{Anchored, Input};
use regex_syntax::hir::literal::{ExtractKind, Extractor};

#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct YaraError {
    pub origin: String,
    pub message: String,
}

/// A parse error's message (line and rule named), before it becomes a [`YaraError`].
#[derive(Debug, Clone)]
struct Msg(String);

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type PResult<T> = Result<T, Msg>;

#[derive(Debug, Clone)]
enum Pattern {
    /// Literal bytes (wide already expanded; hex strings without wildcards too);
    /// `nocase`.
    Literal {
        bytes: Vec<u8>,
        nocase: bool,
    },
    Regex(RegexPattern),
}

/// A regex string (or a hex string with wildcards), with the literals every match
/// starts with when they can be known.
#[derive(Debug, Clone)]
struct RegexPattern {
    re: MetaRegex,
    /// Every match starts with one of these (ASCII case-insensitively); `None`: no
    /// such set worth searching for (the regex then runs over the whole file).
    atoms: Option<Vec<Vec<u8>>>,
}

#[derive(Debug, Clone)]
struct YString {
    id: String,
    /// One or two patterns (ascii and wide forms).
    patterns: Vec<Pattern>,
    fullword: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
enum Quant {
    Any,
    All,
    N(u64),
}

#[derive(Debug, Clone)]
enum Expr {
    Bool(bool),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Str(usize),
    At(usize, u64),
    In(usize, u64, u64),
    Count(usize, Op, u64),
    Of(Quant, Vec<usize>),
    Filesize(Op, u64),
    Int {
        width: u8,
        be: bool,
        at: u64,
        op: Op,
        value: u64,
    },
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct YaraRule {
    pub name: String,
    pub tags: Vec<String>,
    pub meta: Vec<(String, String)>,
    /// Where the rule came from (`bundled:eicar.yar`, a path).
    pub origin: String,
    strings: Vec<YString>,
    cond: Expr,
}

impl YaraRule {
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A rule that matched, with its matched strings (first offset each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    pub rule: usize,
    pub strings: Vec<(String, u64, Vec<u8>)>,
}

/// What one pattern of the shared automaton stands for.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// A literal string (rule, string); `exact`: compare case-sensitively.
    Lit {
        rule: usize,
        string: usize,
        exact: bool,
    },
    /// An atom of a regex pattern (rule, string, pattern).
    Atom {
        rule: usize,
        string: usize,
        pattern: usize,
    },
}

/// Compiled rules with one Aho-Corasick automaton over every literal string and every
/// regex's atoms (ASCII case-insensitive; case-sensitive literals are verified).
#[derive(Debug, Clone)]
pub struct Rules {
    pub rules: Vec<YaraRule>,
    ac: Option<(AhoCorasick, Vec<AcPattern>)>,
}

/// One pattern of the automaton: its bytes and the string (or regex atom) it stands for.
type AcPattern = (Vec<u8>, Slot);

/// `(offset, len)` of a string's matches; `None` while a regex string is unsearched.
type Offsets = Option<Vec<(usize, usize)>>;

/// Matches kept per string (the count conditions compare against at most this).
const MAX_OFFSETS: usize = 64;
/// Atom hits of one regex tried one by one; past this the regex runs over the file.
const MAX_ATOM_HITS: usize = 256;
/// Atoms shorter than this are too common to be worth a prefilter.
const MIN_ATOM: usize = 2;

/// The literals every match of `src` starts with (lowercased), if few and long enough.
fn atoms(src: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(src)
        .ok()?;
    let seq = Extractor::new()
        .kind(ExtractKind::Prefix)
        .limit_total(64)
        .extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() || lits.iter().any(|l| l.as_bytes().len() < MIN_ATOM) {
        return None;
    }
    let mut out: Vec<Vec<u8>> = lits
        .iter()
        .map(|l| l.as_bytes().to_ascii_lowercase())
        .collect();
    out.sort();
    out.dedup();
    Some(out)
}

/// Three-valued logic: `None` is "not known yet" (a regex string not searched).
fn eval3(e: &Expr, o: &[Option<Vec<(usize, usize)>>], data: &[u8]) -> Option<bool> {
    let and = |a: Option<bool>, b: Option<bool>| match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    };
    let or = |a: Option<bool>, b: Option<bool>| match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    };
    let known = |i: usize| o.get(i).and_then(|v| v.as_ref());
    match e {
        Expr::And(a, b) => and(eval3(a, o, data), eval3(b, o, data)),
        Expr::Or(a, b) => or(eval3(a, o, data), eval3(b, o, data)),
        Expr::Not(a) => eval3(a, o, data).map(|v| !v),
        Expr::Str(i) | Expr::At(i, _) | Expr::In(i, _, _) | Expr::Count(i, _, _) => {
            Some(leaf(e, known(*i)?))
        }
        Expr::Of(q, ids) => {
            let hits = ids
                .iter()
                .filter(|&&i| known(i).is_some_and(|v| !v.is_empty()))
                .count() as u64;
            let misses = ids
                .iter()
                .filter(|&&i| known(i).is_some_and(|v| v.is_empty()))
                .count() as u64;
            let total = ids.len() as u64;
            let need = match q {
                Quant::Any => 1,
                Quant::All => total,
                Quant::N(k) => *k,
            };
            if hits >= need {
                Some(true)
            } else if total - misses < need {
                Some(false)
            } else {
                None
            }
        }
        Expr::Bool(_) | Expr::Filesize(..) | Expr::Int { .. } => Some(eval(e, &[], data)),
    }
}

impl Rules {
    pub fn new(rules: Vec<YaraRule>) -> Result<Rules, YaraError> {
        let mut pats: Vec<AcPattern> = Vec::new();
        for (ri, r) in rules.iter().enumerate() {
            for (si, s) in r.strings.iter().enumerate() {
                for (pi, p) in s.patterns.iter().enumerate() {
                    match p {
                        Pattern::Literal { bytes, nocase } => pats.push((
                            bytes.clone(),
                            Slot::Lit {
                                rule: ri,
                                string: si,
                                exact: !nocase,
                            },
                        )),
                        Pattern::Regex(RegexPattern {
                            atoms: Some(atoms), ..
                        }) => {
                            for a in atoms {
                                pats.push((
                                    a.clone(),
                                    Slot::Atom {
                                        rule: ri,
                                        string: si,
                                        pattern: pi,
                                    },
                                ));
                            }
                        }
                        Pattern::Regex(_) => {}
                    }
                }
            }
        }
        let ac = if pats.is_empty() {
            None
        } else {
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(pats.iter().map(|(b, _)| b))
                .map_err(|e| YaraError {
                    origin: "yara strings".into(),
                    message: e.to_string(),
                })?;
            Some((ac, pats))
        };
        Ok(Rules { ac, rules })
    }

    /// The rules that match `data`.
    pub fn scan(&self, data: &[u8]) -> Vec<RuleMatch> {
        // offs[rule][string]: (offset, len) of each match, capped; `None` while a
        // regex string has not been searched.
        let mut offs: Vec<Vec<Offsets>> = self
            .rules
            .iter()
            .map(|r| {
                r.strings
                    .iter()
                    .map(|s| {
                        let lit = s
                            .patterns
                            .iter()
                            .all(|p| matches!(p, Pattern::Literal { .. }));
                        lit.then(Vec::new)
                    })
                    .collect()
            })
            .collect();
        // Atom hits per (rule, string, pattern): candidate start offsets.
        let mut cands: Vec<((usize, usize, usize), Vec<usize>)> = Vec::new();
        let mut lit_offs: Vec<Vec<Vec<(usize, usize)>>> = self
            .rules
            .iter()
            .map(|r| vec![Vec::new(); r.strings.len()])
            .collect();
        if let Some((ac, slots)) = &self.ac {
            for m in ac.find_overlapping_iter(data) {
                let Some((bytes, slot)) = slots.get(m.pattern().as_usize()) else {
                    continue;
                };
                match *slot {
                    Slot::Lit {
                        rule,
                        string,
                        exact,
                    } => {
                        if exact && data.get(m.start()..m.end()) != Some(bytes.as_slice()) {
                            continue;
                        }
                        let s = &self.rules[rule].strings[string];
                        if s.fullword && !fullword(data, m.start(), m.end()) {
                            continue;
                        }
                        let v = &mut lit_offs[rule][string];
                        if v.len() < MAX_OFFSETS {
                            v.push((m.start(), m.end() - m.start()));
                        }
                    }
                    Slot::Atom {
                        rule,
                        string,
                        pattern,
                    } => {
                        let key = (rule, string, pattern);
                        let i = match cands.iter().position(|(k, _)| *k == key) {
                            Some(i) => i,
                            None => {
                                cands.push((key, Vec::new()));
                                cands.len() - 1
                            }
                        };
                        let v = &mut cands[i].1;
                        if v.len() <= MAX_ATOM_HITS {
                            v.push(m.start());
                        }
                    }
                }
            }
        }
        // Literal strings are known now; a string with a regex pattern still is not.
        for (os, ls) in offs.iter_mut().zip(lit_offs.iter_mut()) {
            for (o, l) in os.iter_mut().zip(ls.iter_mut()) {
                if let Some(v) = o.as_mut() {
                    v.append(l);
                }
            }
        }
        let mut out = Vec::new();
        for (ri, r) in self.rules.iter().enumerate() {
            // Regexes only for a rule that can still match.
            if eval3(&r.cond, &offs[ri], data) != Some(false) {
                for (si, s) in r.strings.iter().enumerate() {
                    if offs[ri][si].is_some() {
                        continue;
                    }
                    let mut v = std::mem::take(&mut lit_offs[ri][si]);
                    for (pi, p) in s.patterns.iter().enumerate() {
                        let Pattern::Regex(rp) = p else { continue };
                        let hits = cands
                            .iter()
                            .find(|(k, _)| *k == (ri, si, pi))
                            .map(|(_, c)| c.as_slice());
                        regex_matches(rp, hits, data, s.fullword, &mut v);
                    }
                    offs[ri][si] = Some(v);
                }
            }
            let o: Vec<Vec<(usize, usize)>> = offs[ri]
                .iter_mut()
                .map(|v| {
                    let mut v = v.take().unwrap_or_default();
                    v.sort_unstable();
                    v.dedup_by_key(|x| x.0);
                    v
                })
                .collect();
            if eval(&r.cond, &o, data) {
                let strings = r
                    .strings
                    .iter()
                    .zip(o.iter())
                    .filter_map(|(s, v)| {
                        v.first().map(|&(at, len)| {
                            let end = (at + len).min(at + 64).min(data.len());
                            (s.id.clone(), at as u64, data[at..end].to_vec())
                        })
                    })
                    .collect();
                out.push(RuleMatch { rule: ri, strings });
            }
        }
        out
    }
}

/// The matches of one regex pattern: at its atoms' hits (anchored there: every match
/// starts with an atom), or over the whole file when it has no atoms or too many hits.
fn regex_matches(
    rp: &RegexPattern,
    hits: Option<&[usize]>,
    data: &[u8],
    fullword_only: bool,
    v: &mut Vec<(usize, usize)>,
) {
    let push = |s: usize, e: usize, v: &mut Vec<(usize, usize)>| {
        if (!fullword_only || fullword(data, s, e)) && v.len() < MAX_OFFSETS {
            v.push((s, e - s));
        }
    };
    match (&rp.atoms, hits) {
        (Some(_), None) => {}
        (Some(_), Some(h)) if h.len() <= MAX_ATOM_HITS => {
            let mut h = h.to_vec();
            h.sort_unstable();
            h.dedup();
            for at in h {
                if v.len() >= MAX_OFFSETS {
                    break;
                }
                let input = Input::new(data).range(at..).anchored(Anchored::Yes);
                if let Some(m) = rp.re.search(&input) {
                    push(m.start(), m.end(), v);
                }
            }
        }
        (Some(_), Some(h)) => {
            // Many hits: one search from the first (no match starts before it).
            let first = h.iter().copied().min().unwrap_or(0);
            for m in rp
                .re
                .find_iter(Input::new(data).range(first..))
                .take(MAX_OFFSETS)
            {
                push(m.start(), m.end(), v);
            }
        }
        (None, _) => {
            for m in rp.re.find_iter(data).take(MAX_OFFSETS) {
                push(m.start(), m.end(), v);
            }
        }
    }
}

fn fullword(data: &[u8], s: usize, e: usize) -> bool {
    let w = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    (s == 0 || !w(data[s - 1])) && (e >= data.len() || !w(data[e]))
}

fn cmp(a: u64, op: Op, b: u64) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
    }
}

/// A condition on one string's matches (`$a`, `$a at N`, `$a in (N..M)`, `#a OP N`).
fn leaf(e: &Expr, v: &[(usize, usize)]) -> bool {
    match e {
        Expr::Str(_) => !v.is_empty(),
        Expr::At(_, at) => v.iter().any(|&(s, _)| s as u64 == *at),
        Expr::In(_, a, b) => v.iter().any(|&(s, _)| (s as u64) >= *a && (s as u64) <= *b),
        Expr::Count(_, op, n) => cmp(v.len() as u64, *op, *n),
        _ => false,
    }
}

fn eval(e: &Expr, o: &[Vec<(usize, usize)>], data: &[u8]) -> bool {
    let hit = |i: usize| o.get(i).is_some_and(|v| !v.is_empty());
    match e {
        Expr::Bool(b) => *b,
        Expr::And(a, b) => eval(a, o, data) && eval(b, o, data),
        Expr::Or(a, b) => eval(a, o, data) || eval(b, o, data),
        Expr::Not(a) => !eval(a, o, data),
        Expr::Str(i) | Expr::At(i, _) | Expr::In(i, _, _) | Expr::Count(i, _, _) => {
            leaf(e, o.get(*i).map_or(&[], |v| v.as_slice()))
        }
        Expr::Of(q, ids) => {
            let n = ids.iter().filter(|&&i| hit(i)).count() as u64;
            match q {
                Quant::Any => n >= 1,
                Quant::All => n == ids.len() as u64,
                Quant::N(k) => n >= *k,
            }
        }
        Expr::Filesize(op, n) => cmp(data.len() as u64, *op, *n),
        Expr::Int {
            width,
            be,
            at,
            op,
            value,
        } => {
            let w = usize::from(*width);
            let Ok(at) = usize::try_from(*at) else {
                return false;
            };
            let Some(b) = data.get(at..at.saturating_add(w)) else {
                return false;
            };
            let mut v: u64 = 0;
            for i in 0..w {
                let byte = if *be { b[i] } else { b[w - 1 - i] };
                v = (v << 8) | u64::from(byte);
            }
            cmp(v, *op, *value)
        }
    }
}

// ---------------------------------------------------------------- parsing

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Var(String),   // $a, $a*, $
    Count(String), // #a
    Str(Vec<u8>),
    Hex(String),
    Regex(String, String),
    Int(u64),
    Punct(&'static str),
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Lexer<'a> {
    fn err(&self, m: impl Into<String>) -> Msg {
        let line = self.s[..self.i.min(self.s.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        Msg(format!("line {line}: {}", m.into()))
    }

    fn skip(&mut self) {
        loop {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
            if self.s[self.i..].starts_with(b"//") {
                while self.i < self.s.len() && self.s[self.i] != b'\n' {
                    self.i += 1;
                }
            } else if self.s[self.i..].starts_with(b"/*") {
                match self.s[self.i + 2..].windows(2).position(|w| w == b"*/") {
                    Some(p) => self.i += p + 4,
                    None => self.i = self.s.len(),
                }
            } else {
                return;
            }
        }
    }

    /// `regex_ok`: a `/` starts a regex (after `=` in strings).
    fn next(&mut self, regex_ok: bool) -> PResult<Option<Tok>> {
        self.skip();
        let Some(&c) = self.s.get(self.i) else {
            return Ok(None);
        };
        let start = self.i;
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        if c.is_ascii_alphabetic() || c == b'_' {
            while self.i < self.s.len() && word(self.s[self.i]) {
                self.i += 1;
            }
            return Ok(Some(Tok::Ident(
                String::from_utf8_lossy(&self.s[start..self.i]).into_owned(),
            )));
        }
        if c == b'$' || c == b'#' {
            self.i += 1;
            while self.i < self.s.len() && (word(self.s[self.i]) || self.s[self.i] == b'*') {
                self.i += 1;
            }
            let name = String::from_utf8_lossy(&self.s[start + 1..self.i]).into_owned();
            return Ok(Some(if c == b'$' {
                Tok::Var(name)
            } else {
                Tok::Count(name)
            }));
        }
        if c.is_ascii_digit() {
            while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric()) {
                self.i += 1;
            }
            let t = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
            let (num, mult) = if let Some(n) = t.strip_suffix("KB") {
                (n, 1024)
            } else if let Some(n) = t.strip_suffix("MB") {
                (n, 1024 * 1024)
            } else {
                (t, 1)
            };
            let v = if let Some(h) = num.strip_prefix("0x") {
                u64::from_str_radix(h, 16)
            } else {
                num.parse()
            }
            .map_err(|_| self.err(format!("bad number {t:?}")))?;
            return Ok(Some(Tok::Int(v.saturating_mul(mult))));
        }
        if c == b'"' {
            self.i += 1;
            let mut out = Vec::new();
            loop {
                let Some(&b) = self.s.get(self.i) else {
                    return Err(self.err("unterminated string"));
                };
                self.i += 1;
                match b {
                    b'"' => break,
                    b'\\' => {
                        let Some(&e) = self.s.get(self.i) else {
                            return Err(self.err("unterminated string"));
                        };
                        self.i += 1;
                        match e {
                            b'n' => out.push(b'\n'),
                            b'r' => out.push(b'\r'),
                            b't' => out.push(b'\t'),
                            b'\\' | b'"' => out.push(e),
                            b'x' => {
                                let h = self
                                    .s
                                    .get(self.i..self.i + 2)
                                    .and_then(|h| std::str::from_utf8(h).ok())
                                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                                    .ok_or_else(|| self.err("bad \\x escape"))?;
                                self.i += 2;
                                out.push(h);
                            }
                            _ => return Err(self.err(format!("unknown escape \\{}", e as char))),
                        }
                    }
                    _ => out.push(b),
                }
            }
            return Ok(Some(Tok::Str(out)));
        }
        if c == b'{' && regex_ok {
            let end = self.s[self.i..]
                .iter()
                .position(|&b| b == b'}')
                .ok_or_else(|| self.err("unterminated hex string"))?;
            let body = String::from_utf8_lossy(&self.s[self.i + 1..self.i + end]).into_owned();
            self.i += end + 1;
            return Ok(Some(Tok::Hex(body)));
        }
        if c == b'/' && regex_ok {
            self.i += 1;
            let mut body = Vec::new();
            loop {
                let Some(&b) = self.s.get(self.i) else {
                    return Err(self.err("unterminated regex"));
                };
                self.i += 1;
                if b == b'\\' {
                    if let Some(&n) = self.s.get(self.i) {
                        if n != b'/' {
                            body.push(b);
                        }
                        body.push(n);
                        self.i += 1;
                    }
                    continue;
                }
                if b == b'/' {
                    break;
                }
                body.push(b);
            }
            let fs = self.i;
            while self.i < self.s.len() && matches!(self.s[self.i], b'i' | b's') {
                self.i += 1;
            }
            return Ok(Some(Tok::Regex(
                String::from_utf8_lossy(&body).into_owned(),
                String::from_utf8_lossy(&self.s[fs..self.i]).into_owned(),
            )));
        }
        for p in [
            "==", "!=", "<=", ">=", "..", "<", ">", "(", ")", "{", "}", ":", "=", ",",
        ] {
            if self.s[self.i..].starts_with(p.as_bytes()) {
                self.i += p.len();
                return Ok(Some(Tok::Punct(p)));
            }
        }
        Err(self.err(format!("unexpected character {:?}", c as char)))
    }
}

fn hex_to_regex(body: &str) -> PResult<String> {
    let mut out = String::from("(?s-u)");
    let toks: Vec<String> = body
        .replace('[', " [ ")
        .replace(']', " ] ")
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace('|', " | ")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i].as_str();
        match t {
            "(" | ")" | "|" => out.push_str(if t == "(" { "(?:" } else { t }),
            "[" => {
                let mut j = i + 1;
                let mut spec = String::new();
                while j < toks.len() && toks[j] != "]" {
                    spec.push_str(&toks[j]);
                    j += 1;
                }
                let (a, b) = match spec.split_once('-') {
                    Some((a, b)) => (a.to_string(), b.to_string()),
                    None => (spec.clone(), spec.clone()),
                };
                let a: u32 = if a.is_empty() {
                    0
                } else {
                    a.parse().map_err(|_| Msg(format!("bad jump [{spec}]")))?
                };
                if b.is_empty() {
                    out.push_str(&format!(".{{{a},}}"));
                } else {
                    let b: u32 = b.parse().map_err(|_| Msg(format!("bad jump [{spec}]")))?;
                    out.push_str(&format!(".{{{a},{b}}}"));
                }
                i = j;
            }
            _ => {
                // Pairs of nibbles, possibly several written together.
                let cs: Vec<char> = t.chars().collect();
                if !cs.len().is_multiple_of(2) {
                    return Err(Msg(format!("bad hex byte {t:?}")));
                }
                for p in cs.chunks(2) {
                    match (p[0], p[1]) {
                        ('?', '?') => out.push('.'),
                        (h, '?') if h.is_ascii_hexdigit() => {
                            let v = h.to_digit(16).unwrap_or(0) as u8;
                            out.push_str(&format!("[\\x{:02x}-\\x{:02x}]", v << 4, (v << 4) | 0xf));
                        }
                        (h, l) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                            out.push_str(&format!("\\x{h}{l}"));
                        }
                        _ => return Err(Msg(format!("bad hex byte {t:?}"))),
                    }
                }
            }
        }
        i += 1;
    }
    Ok(out)
}

struct Parser<'a> {
    lx: Lexer<'a>,
    peeked: Option<Tok>,
    origin: String,
}

impl<'a> Parser<'a> {
    fn peek(&mut self) -> PResult<Option<&Tok>> {
        if self.peeked.is_none() {
            self.peeked = self.lx.next(false)?;
        }
        Ok(self.peeked.as_ref())
    }
    fn bump(&mut self) -> PResult<Option<Tok>> {
        match self.peeked.take() {
            Some(t) => Ok(Some(t)),
            None => self.lx.next(false),
        }
    }
    fn expect(&mut self, p: &str) -> PResult<()> {
        match self.bump()? {
            Some(Tok::Punct(q)) if q == p => Ok(()),
            other => Err(self.lx.err(format!("expected {p:?}, found {other:?}"))),
        }
    }
    fn ident(&mut self) -> PResult<String> {
        match self.bump()? {
            Some(Tok::Ident(s)) => Ok(s),
            other => Err(self.lx.err(format!("expected a name, found {other:?}"))),
        }
    }

    fn rule(&mut self) -> PResult<Option<YaraRule>> {
        let mut kw = match self.bump()? {
            None => return Ok(None),
            Some(Tok::Ident(k)) => k,
            Some(t) => return Err(self.lx.err(format!("expected `rule`, found {t:?}"))),
        };
        while kw == "private" || kw == "global" {
            kw = self.ident()?;
        }
        if kw == "import" || kw == "include" {
            return Err(self.lx.err(format!("`{kw}` is not supported (no modules)")));
        }
        if kw != "rule" {
            return Err(self.lx.err(format!("expected `rule`, found `{kw}`")));
        }
        let name = self.ident()?;
        let mut tags = Vec::new();
        if self.peek()? == Some(&Tok::Punct(":")) {
            self.bump()?;
            while let Some(Tok::Ident(_)) = self.peek()? {
                tags.push(self.ident()?);
            }
        }
        self.expect("{")?;
        let mut meta = Vec::new();
        let mut strings: Vec<YString> = Vec::new();
        let mut cond = None;
        loop {
            let sec = match self.bump()? {
                Some(Tok::Punct("}")) => break,
                Some(Tok::Ident(s)) => s,
                other => return Err(self.lx.err(format!("{name}: unexpected {other:?}"))),
            };
            self.expect(":")?;
            match sec.as_str() {
                "meta" => {
                    while let Some(Tok::Ident(_)) = self.peek()? {
                        if matches!(self.peek()?, Some(Tok::Ident(s)) if s == "strings" || s == "condition")
                        {
                            break;
                        }
                        let k = self.ident()?;
                        self.expect("=")?;
                        let v = match self.bump()? {
                            Some(Tok::Str(b)) => String::from_utf8_lossy(&b).into_owned(),
                            Some(Tok::Int(n)) => n.to_string(),
                            Some(Tok::Ident(s)) => s,
                            other => {
                                return Err(self
                                    .lx
                                    .err(format!("{name}: bad meta value {other:?}")));
                            }
                        };
                        meta.push((k, v));
                    }
                }
                "strings" => {
                    while let Some(Tok::Var(_)) = self.peek()? {
                        let Some(Tok::Var(id)) = self.bump()? else {
                            break;
                        };
                        self.expect("=")?;
                        let val = self.lx.next(true)?;
                        let mut mods = Vec::new();
                        while let Some(Tok::Ident(m)) = self.peek()? {
                            if !matches!(
                                m.as_str(),
                                "nocase" | "ascii" | "wide" | "fullword" | "private"
                            ) {
                                break;
                            }
                            mods.push(self.ident()?);
                        }
                        let has = |m: &str| mods.iter().any(|x| x == m);
                        let patterns = match val {
                            Some(Tok::Str(b)) => {
                                let mut ps = Vec::new();
                                if has("ascii") || !has("wide") {
                                    ps.push(Pattern::Literal {
                                        bytes: b.clone(),
                                        nocase: has("nocase"),
                                    });
                                }
                                if has("wide") {
                                    let w: Vec<u8> = b.iter().flat_map(|&c| [c, 0]).collect();
                                    ps.push(Pattern::Literal {
                                        bytes: w,
                                        nocase: has("nocase"),
                                    });
                                }
                                if b.is_empty() {
                                    return Err(self.lx.err(format!("{name}: ${id} is empty")));
                                }
                                ps
                            }
                            Some(Tok::Hex(h)) => match hex_literal(&h) {
                                // Plain bytes: a literal of the shared automaton.
                                Some(bytes) if !bytes.is_empty() => vec![Pattern::Literal {
                                    bytes,
                                    nocase: false,
                                }],
                                _ => {
                                    let re = hex_to_regex(&h)
                                        .map_err(|e| self.lx.err(format!("{name}: ${id}: {e}")))?;
                                    vec![Pattern::Regex(
                                        build_re(&re, &re).map_err(|e| {
                                            self.lx.err(format!("{name}: ${id}: {e}"))
                                        })?,
                                    )]
                                }
                            },
                            Some(Tok::Regex(body, flags)) => {
                                // The atoms come from the case-sensitive form (the
                                // automaton ignores ASCII case anyway). Flags before
                                // the `-` are set: `(?-ui)` would turn `i` off.
                                let dot = if flags.contains('s') { "s" } else { "" };
                                let ci = if flags.contains('i') || has("nocase") {
                                    "i"
                                } else {
                                    ""
                                };
                                vec![Pattern::Regex(
                                    build_re(
                                        &format!("(?{ci}{dot}-u){body}"),
                                        &format!("(?{dot}-u){body}"),
                                    )
                                    .map_err(|e| self.lx.err(format!("{name}: ${id}: {e}")))?,
                                )]
                            }
                            other => {
                                return Err(self.lx.err(format!(
                                    "{name}: ${id}: expected a string, found {other:?}"
                                )));
                            }
                        };
                        if strings.iter().any(|s| s.id == id) {
                            return Err(self.lx.err(format!("{name}: ${id} is defined twice")));
                        }
                        strings.push(YString {
                            id,
                            patterns,
                            fullword: has("fullword"),
                        });
                    }
                }
                "condition" => {
                    let e = self.or(&strings, &name)?;
                    cond = Some(e);
                }
                other => return Err(self.lx.err(format!("{name}: unknown section {other:?}"))),
            }
        }
        let cond = cond.ok_or_else(|| self.lx.err(format!("{name}: no condition")))?;
        Ok(Some(YaraRule {
            name,
            tags,
            meta,
            origin: self.origin.clone(),
            strings,
            cond,
        }))
    }

    fn or(&mut self, s: &[YString], n: &str) -> PResult<Expr> {
        let mut e = self.and(s, n)?;
        while matches!(self.peek()?, Some(Tok::Ident(k)) if k == "or") {
            self.bump()?;
            e = Expr::Or(Box::new(e), Box::new(self.and(s, n)?));
        }
        Ok(e)
    }
    fn and(&mut self, s: &[YString], n: &str) -> PResult<Expr> {
        let mut e = self.not(s, n)?;
        while matches!(self.peek()?, Some(Tok::Ident(k)) if k == "and") {
            self.bump()?;
            e = Expr::And(Box::new(e), Box::new(self.not(s, n)?));
        }
        Ok(e)
    }
    fn not(&mut self, s: &[YString], n: &str) -> PResult<Expr> {
        if matches!(self.peek()?, Some(Tok::Ident(k)) if k == "not") {
            self.bump()?;
            return Ok(Expr::Not(Box::new(self.not(s, n)?)));
        }
        self.primary(s, n)
    }
    fn op(&mut self) -> PResult<Op> {
        Ok(match self.bump()? {
            Some(Tok::Punct("==")) => Op::Eq,
            Some(Tok::Punct("!=")) => Op::Ne,
            Some(Tok::Punct("<")) => Op::Lt,
            Some(Tok::Punct("<=")) => Op::Le,
            Some(Tok::Punct(">")) => Op::Gt,
            Some(Tok::Punct(">=")) => Op::Ge,
            other => {
                return Err(self
                    .lx
                    .err(format!("expected a comparison, found {other:?}")));
            }
        })
    }
    fn int(&mut self) -> PResult<u64> {
        match self.bump()? {
            Some(Tok::Int(n)) => Ok(n),
            other => Err(self.lx.err(format!("expected a number, found {other:?}"))),
        }
    }
    fn var(&self, s: &[YString], n: &str, v: &str) -> PResult<usize> {
        s.iter()
            .position(|x| x.id == v)
            .ok_or_else(|| self.lx.err(format!("{n}: ${v} is not defined")))
    }
    fn set(&mut self, s: &[YString], n: &str) -> PResult<Vec<usize>> {
        match self.bump()? {
            Some(Tok::Ident(k)) if k == "them" => Ok((0..s.len()).collect()),
            Some(Tok::Punct("(")) => {
                let mut ids = Vec::new();
                loop {
                    match self.bump()? {
                        Some(Tok::Var(v)) => {
                            if let Some(p) = v.strip_suffix('*') {
                                let m: Vec<usize> =
                                    (0..s.len()).filter(|&i| s[i].id.starts_with(p)).collect();
                                if m.is_empty() {
                                    return Err(self
                                        .lx
                                        .err(format!("{n}: ${v} matches no string")));
                                }
                                ids.extend(m);
                            } else {
                                ids.push(self.var(s, n, &v)?);
                            }
                        }
                        other => {
                            return Err(self
                                .lx
                                .err(format!("{n}: expected $name, found {other:?}")));
                        }
                    }
                    match self.bump()? {
                        Some(Tok::Punct(",")) => continue,
                        Some(Tok::Punct(")")) => break,
                        other => {
                            return Err(self
                                .lx
                                .err(format!("{n}: expected , or ), found {other:?}")));
                        }
                    }
                }
                Ok(ids)
            }
            other => Err(self
                .lx
                .err(format!("{n}: expected `them` or a list, found {other:?}"))),
        }
    }
    fn primary(&mut self, s: &[YString], n: &str) -> PResult<Expr> {
        match self.bump()? {
            Some(Tok::Punct("(")) => {
                let e = self.or(s, n)?;
                self.expect(")")?;
                Ok(e)
            }
            Some(Tok::Ident(k)) => match k.as_str() {
                "true" => Ok(Expr::Bool(true)),
                "false" => Ok(Expr::Bool(false)),
                "any" | "all" => {
                    let q = if k == "any" { Quant::Any } else { Quant::All };
                    if self.ident()? != "of" {
                        return Err(self.lx.err(format!("{n}: expected `of`")));
                    }
                    Ok(Expr::Of(q, self.set(s, n)?))
                }
                "filesize" => {
                    let op = self.op()?;
                    Ok(Expr::Filesize(op, self.int()?))
                }
                "uint8" | "uint16" | "uint32" | "uint16be" | "uint32be" => {
                    let width = if k.starts_with("uint8") {
                        1
                    } else if k.starts_with("uint16") {
                        2
                    } else {
                        4
                    };
                    self.expect("(")?;
                    let at = self.int()?;
                    self.expect(")")?;
                    let op = self.op()?;
                    let value = self.int()?;
                    Ok(Expr::Int {
                        width,
                        be: k.ends_with("be"),
                        at,
                        op,
                        value,
                    })
                }
                other => Err(self.lx.err(format!("{n}: unsupported condition `{other}`"))),
            },
            Some(Tok::Int(k)) => {
                if self.ident()? != "of" {
                    return Err(self.lx.err(format!("{n}: expected `of`")));
                }
                Ok(Expr::Of(Quant::N(k), self.set(s, n)?))
            }
            Some(Tok::Var(v)) => {
                let i = self.var(s, n, &v)?;
                match self.peek()? {
                    Some(Tok::Ident(k)) if k == "at" => {
                        self.bump()?;
                        Ok(Expr::At(i, self.int()?))
                    }
                    Some(Tok::Ident(k)) if k == "in" => {
                        self.bump()?;
                        self.expect("(")?;
                        let a = self.int()?;
                        self.expect("..")?;
                        let b = self.int()?;
                        self.expect(")")?;
                        Ok(Expr::In(i, a, b))
                    }
                    _ => Ok(Expr::Str(i)),
                }
            }
            Some(Tok::Count(v)) => {
                let i = self.var(s, n, &v)?;
                let op = self.op()?;
                Ok(Expr::Count(i, op, self.int()?))
            }
            other => Err(self
                .lx
                .err(format!("{n}: unexpected {other:?} in condition"))),
        }
    }
}

/// A regex pattern (`src`) with the atoms of `atom_src` (the same regex, maybe
/// without case folding).
fn build_re(src: &str, atom_src: &str) -> PResult<RegexPattern> {
    let re = MetaRegex::builder()
        .configure(
            MetaRegex::config()
                .nfa_size_limit(Some(1 << 22))
                .onepass_size_limit(Some(1 << 20))
                .dfa_size_limit(Some(1 << 22)),
        )
        .syntax(
            regex_automata::util::syntax::Config::new()
                .unicode(false)
                .utf8(false),
        )
        .build(src)
        .map_err(|e| Msg(e.to_string()))?;
    Ok(RegexPattern {
        re,
        atoms: atoms(atom_src),
    })
}

/// The bytes of a hex string without wildcards, jumps or alternatives.
fn hex_literal(body: &str) -> Option<Vec<u8>> {
    let digits: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return None;
    }
    if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Parse every rule of one file.
pub fn parse(origin: &str, text: &str) -> Result<Vec<YaraRule>, YaraError> {
    let mut p = Parser {
        lx: Lexer {
            s: text.as_bytes(),
            i: 0,
        },
        peeked: None,
        origin: origin.to_string(),
    };
    let mut out = Vec::new();
    loop {
        match p.rule() {
            Ok(Some(r)) => out.push(r),
            Ok(None) => return Ok(out),
            Err(message) => {
                return Err(YaraError {
                    origin: origin.to_string(),
                    message: message.0,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rules(t: &str) -> Rules {
        Rules::new(parse("t", t).unwrap()).unwrap()
    }

    #[test]
    fn conditions_and_string_kinds() {
        let r = rules(
            r#"
            // comment
            rule a : tag1 { meta: author = "x" strings: $x = "abc" nocase $y = { 41 ?? 43 } condition: $x and $y }
            rule b { strings: $e = { 7F 45 4C 46 } $u = "UPX!" condition: $e at 0 and $u }
            rule c { strings: $r = /ev[a]l\(\$_POST/ $s1 = "one" $s2 = "two" condition: $r or 2 of ($s*) }
            rule d { condition: filesize < 4 and uint8(0) == 0x7a }
            rule e { strings: $w = "hi" fullword condition: #w >= 2 }
            "#,
        );
        let names = |d: &[u8]| -> Vec<String> {
            r.scan(d)
                .iter()
                .map(|m| r.rules[m.rule].name.clone())
                .collect()
        };
        assert_eq!(names(b"xxABCxx AZC"), vec!["a"]);
        assert!(names(b"xxABDxx AZD").is_empty());
        assert_eq!(names(b"\x7fELF....UPX!"), vec!["b"]);
        assert!(names(b".\x7fELF....UPX!").is_empty());
        assert_eq!(names(b"eval($_POST['x'])"), vec!["c"]);
        assert_eq!(names(b"one two"), vec!["c"]);
        assert_eq!(names(b"zzz"), vec!["d"]);
        assert_eq!(names(b"hi hi"), vec!["e"]);
        assert!(names(b"hi high").is_empty());
        let m = r.scan(b"xxABCxx AZC");
        assert_eq!(m[0].strings[0], ("x".to_string(), 2, b"ABC".to_vec()));
    }

    #[test]
    fn errors_name_the_rule() {
        let e = parse("f.yar", "rule bad { strings: $a = \"x\" condition: $b }").unwrap_err();
        assert!(
            e.to_string().contains("bad") && e.to_string().contains("$b"),
            "{e}"
        );
        assert!(parse("f.yar", "import \"pe\"").is_err());
        assert!(parse("f.yar", "rule x { condition: pe.is_dll() }").is_err());
    }
}
