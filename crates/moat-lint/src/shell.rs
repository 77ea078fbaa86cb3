//! A cheap POSIX shell tokenizer for `RUN` commands: words, quotes, `$(...)`,
//! backticks, operators (`&&`, `||`, `;`, `|`, `&`, newline), redirections and
//! comments. It is enough to find commands and their arguments; it is not a full
//! shell parser (no ShellCheck-style analysis).

/// One simple command: its words (quotes removed), without leading `VAR=value`
/// assignments and without redirections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Command {
    pub words: Vec<String>,
    /// The raw words as written (quotes kept), parallel to `words`.
    pub raw: Vec<String>,
    /// The operator that ends this command (`&&`, `||`, `|`, `;`, `&`, `\n`, or empty).
    pub op_after: String,
    /// Redirection targets (`> /dev/null` gives `/dev/null`).
    pub redirects: Vec<String>,
    /// Wrapper commands removed in front (`sudo`, `env`, `xargs`...).
    pub wrappers: Vec<String>,
}

impl Command {
    /// The program name, without a leading path (`/usr/bin/apt-get` gives `apt-get`).
    pub fn name(&self) -> &str {
        let w = self.words.first().map(String::as_str).unwrap_or("");
        w.rsplit('/').next().unwrap_or(w)
    }
    /// Arguments after the program name.
    pub fn args(&self) -> &[String] {
        self.words.get(1..).unwrap_or(&[])
    }
    pub fn has_arg(&self, a: &str) -> bool {
        self.args().iter().any(|w| w == a)
    }
    /// Whether a short flag letter appears in any `-abc` cluster, or the long flag is given.
    pub fn has_flag(&self, short: Option<char>, long: &[&str]) -> bool {
        self.args().iter().any(|w| {
            if let Some(l) = w.strip_prefix("--") {
                let name = l.split('=').next().unwrap_or(l);
                long.iter().any(|x| x.trim_start_matches("--") == name)
            } else if let Some(s) = w.strip_prefix('-') {
                short.is_some_and(|c| {
                    !s.is_empty() && s.chars().all(|x| x.is_ascii_alphanumeric()) && s.contains(c)
                })
            } else {
                false
            }
        })
    }
    /// Arguments that are not options (do not start with `-`).
    pub fn positional(&self) -> impl Iterator<Item = &String> {
        self.args().iter().filter(|w| !w.starts_with('-'))
    }
    /// The subcommand-relative view: for `apt-get -y install x`, the words after `install`.
    pub fn after_word(&self, sub: &str) -> Option<&[String]> {
        let pos = self.args().iter().position(|w| w == sub)?;
        self.args().get(pos + 1..)
    }
}

/// A parsed script.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pub commands: Vec<Command>,
}

impl Script {
    /// Commands, with wrappers unwrapped: `sudo x`, `env A=b x`, `nice x`, `time x`,
    /// `xargs x` and `sh -c '...'` (parsed recursively).
    pub fn parse(src: &str) -> Script {
        let mut out = Vec::new();
        parse_into(src, &mut out, 0);
        Script { commands: out }
    }
    pub fn named<'a>(&'a self, names: &'a [&'a str]) -> impl Iterator<Item = &'a Command> + 'a {
        self.commands
            .iter()
            .filter(move |c| names.contains(&c.name()))
    }
    pub fn has_pipe(&self) -> bool {
        self.commands.iter().any(|c| c.op_after == "|")
    }
}

fn parse_into(src: &str, out: &mut Vec<Command>, depth: usize) {
    for mut cmd in tokenize(src) {
        // Commands inside `$( ... )` run too: parse them first.
        if depth < 4 {
            for w in &cmd.raw {
                for inner in substitutions(w) {
                    parse_into(inner, out, depth + 1);
                }
            }
        }
        unwrap_prefixes(&mut cmd);
        if cmd.words.is_empty() {
            continue;
        }
        // `sh -c '...'`: the script is another command list.
        if depth < 4
            && matches!(cmd.name(), "sh" | "bash" | "ash" | "dash")
            && let Some(pos) = cmd.words.iter().position(|w| {
                w == "-c" || (w.starts_with('-') && !w.starts_with("--") && w.ends_with('c'))
            })
            && let Some(script) = cmd.words.get(pos + 1).cloned()
        {
            let op = cmd.op_after.clone();
            out.push(cmd);
            let before = out.len();
            parse_into(&script, out, depth + 1);
            if out.len() > before
                && let Some(last) = out.last_mut()
                && last.op_after.is_empty()
            {
                last.op_after = op;
            }
            continue;
        }
        out.push(cmd);
    }
}

/// The contents of the `$( ... )` command substitutions in a raw word (not `$(( ))`).
fn substitutions(w: &str) -> Vec<&str> {
    let b = w.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'$' && b[i + 1] == b'(' && b.get(i + 2) != Some(&b'(') {
            let start = i + 2;
            let mut depth = 1;
            let mut j = start;
            while j < b.len() {
                match b[j] {
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            out.push(&w[start..j.min(b.len())]);
            i = j;
        }
        i += 1;
    }
    out
}

fn unwrap_prefixes(cmd: &mut Command) {
    // Words before `k` are prefixes; they are removed once at the end (removing them
    // one by one from the front would be quadratic in a line of a million `A=b`).
    let mut k = 0;
    let n = cmd.words.len().min(cmd.raw.len());
    loop {
        // Leading assignments `A=b`.
        while k < n && is_assignment(&cmd.raw[k]) {
            k += 1;
        }
        // Shell reserved words in front of a command.
        while n - k > 1
            && matches!(
                cmd.words[k].as_str(),
                "if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!" | "{"
            )
        {
            k += 1;
        }
        let name = cmd.words.get(k).map(String::as_str).unwrap_or("");
        let strip = matches!(
            name,
            "sudo"
                | "env"
                | "nice"
                | "nohup"
                | "time"
                | "exec"
                | "command"
                | "xargs"
                | "gosu"
                | "su-exec"
                | "doas"
                | "!"
        );
        if !strip || n - k < 2 {
            break;
        }
        let name = name.to_string();
        cmd.wrappers.push(name.clone());
        k += 1;
        // Options of the wrapper (sudo -u x, env -i, xargs -r).
        while k < n && cmd.words[k].starts_with('-') {
            let w = &cmd.words[k];
            k += 1;
            let takes_value = match name.as_str() {
                "sudo" => matches!(w.as_str(), "-u" | "-g" | "-C" | "-h" | "-p" | "-U"),
                "xargs" => matches!(
                    w.as_str(),
                    "-n" | "-I" | "-d" | "-L" | "-P" | "-s" | "-a" | "-E"
                ),
                "env" => matches!(w.as_str(), "-u" | "-C"),
                "nice" => w == "-n",
                _ => false,
            };
            if takes_value && k < n {
                k += 1;
            }
        }
        // gosu/su-exec take a user first.
        if matches!(name.as_str(), "gosu" | "su-exec") && k < n {
            k += 1;
        }
    }
    cmd.words.drain(..k);
    cmd.raw.drain(..k);
}

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((n, _)) => {
            !n.is_empty()
                && n.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// Split a script into simple commands.
#[allow(unused_assignments)] // the end_word!/end_cmd! macros reset state that the last use does not read
pub fn tokenize(src: &str) -> Vec<Command> {
    let chars: Vec<char> = src.chars().collect();
    let mut cmds = Vec::new();
    let mut cur = Command::default();
    let mut word = String::new();
    let mut raw = String::new();
    let mut in_word = false;
    let mut pending_redirect = false;
    // Inside `case ... esac`, `a|b)` is a pattern alternation, not a pipe.
    let mut case_depth = 0usize;
    let mut i = 0;
    let n = chars.len();

    macro_rules! end_word {
        () => {
            if in_word {
                if pending_redirect {
                    cur.redirects.push(std::mem::take(&mut word));
                    pending_redirect = false;
                } else {
                    if word == "case" && cur.words.is_empty() {
                        case_depth += 1;
                    } else if word == "esac" {
                        case_depth = case_depth.saturating_sub(1);
                    }
                    cur.words.push(std::mem::take(&mut word));
                    cur.raw.push(std::mem::take(&mut raw));
                }
                word.clear();
                raw.clear();
                in_word = false;
            }
        };
    }
    macro_rules! end_cmd {
        ($op:expr) => {
            end_word!();
            pending_redirect = false;
            cur.op_after = $op.to_string();
            if !cur.words.is_empty() {
                cmds.push(std::mem::take(&mut cur));
            } else {
                // `{ a; b; } | c`: the pipe belongs to the group's last command.
                if $op == "|" {
                    if let Some(last) = cmds.last_mut() {
                        last.op_after = "|".to_string();
                    }
                }
                cur = Command::default();
            }
        };
    }

    while i < n {
        let c = chars[i];
        match c {
            '\\' => {
                if i + 1 < n {
                    if chars[i + 1] == '\n' {
                        i += 2;
                        continue;
                    }
                    word.push(chars[i + 1]);
                    raw.push(c);
                    raw.push(chars[i + 1]);
                    in_word = true;
                    i += 2;
                } else {
                    i += 1;
                }
            }
            '\'' => {
                in_word = true;
                raw.push(c);
                i += 1;
                while i < n && chars[i] != '\'' {
                    word.push(chars[i]);
                    raw.push(chars[i]);
                    i += 1;
                }
                raw.push('\'');
                i += 1;
            }
            '"' => {
                in_word = true;
                raw.push(c);
                i += 1;
                while i < n && chars[i] != '"' {
                    if chars[i] == '\\'
                        && i + 1 < n
                        && matches!(chars[i + 1], '"' | '\\' | '$' | '`')
                    {
                        word.push(chars[i + 1]);
                        raw.push(chars[i]);
                        raw.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    if chars[i] == '\\' && i + 1 < n && chars[i + 1] == '\n' {
                        i += 2;
                        continue;
                    }
                    word.push(chars[i]);
                    raw.push(chars[i]);
                    i += 1;
                }
                raw.push('"');
                i += 1;
            }
            '`' => {
                in_word = true;
                let start = i;
                i += 1;
                while i < n && chars[i] != '`' {
                    i += 1;
                }
                i += 1;
                let s: String = chars[start..i.min(n)].iter().collect();
                word.push_str(&s);
                raw.push_str(&s);
            }
            '$' if i + 1 < n && chars[i + 1] == '(' => {
                // $( ... ) or $(( ... )): keep as part of the word, balanced.
                in_word = true;
                let start = i;
                let mut depth = 0i32;
                i += 1;
                while i < n {
                    match chars[i] {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        '\'' => {
                            i += 1;
                            while i < n && chars[i] != '\'' {
                                i += 1;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                let s: String = chars[start..i.min(n)].iter().collect();
                word.push_str(&s);
                raw.push_str(&s);
            }
            '$' if i + 1 < n && chars[i + 1] == '{' => {
                in_word = true;
                let start = i;
                while i < n && chars[i] != '}' {
                    i += 1;
                }
                i += 1;
                let s: String = chars[start..i.min(n)].iter().collect();
                word.push_str(&s);
                raw.push_str(&s);
            }
            '#' if !in_word => {
                while i < n && chars[i] != '\n' {
                    i += 1;
                }
            }
            ' ' | '\t' | '\r' => {
                end_word!();
                i += 1;
            }
            '\n' => {
                end_cmd!("\n");
                i += 1;
            }
            ';' => {
                end_cmd!(";");
                i += if i + 1 < n && chars[i + 1] == ';' {
                    2
                } else {
                    1
                };
            }
            '&' => {
                if i + 1 < n && chars[i + 1] == '&' {
                    end_cmd!("&&");
                    i += 2;
                } else if in_word && (word.ends_with('>') || word.ends_with('<'))
                    || raw.ends_with('>')
                {
                    word.push(c);
                    raw.push(c);
                    i += 1;
                } else if i + 1 < n && chars[i + 1] == '>' {
                    // &> file
                    end_word!();
                    pending_redirect = true;
                    i += 2;
                } else {
                    end_cmd!("&");
                    i += 1;
                }
            }
            '|' if case_depth > 0 && in_word => {
                word.push(c);
                raw.push(c);
                i += 1;
            }
            '|' => {
                if i + 1 < n && chars[i + 1] == '|' {
                    end_cmd!("||");
                    i += 2;
                } else {
                    end_cmd!("|");
                    i += if i + 1 < n && chars[i + 1] == '&' {
                        2
                    } else {
                        1
                    };
                }
            }
            '(' | ')' | '{' | '}' if !in_word => {
                // Subshells and groups: boundaries, not words.
                if c == '{' && i + 1 < n && !chars[i + 1].is_whitespace() {
                    in_word = true;
                    word.push(c);
                    raw.push(c);
                    i += 1;
                    continue;
                }
                end_cmd!(";");
                i += 1;
            }
            ')' => {
                end_cmd!(";");
                i += 1;
            }
            '>' | '<' => {
                // A redirection: an optional fd number before it is dropped.
                if in_word && word.chars().all(|c| c.is_ascii_digit()) {
                    word.clear();
                    raw.clear();
                    in_word = false;
                } else {
                    end_word!();
                }
                i += 1;
                while i < n && matches!(chars[i], '>' | '<' | '|') {
                    i += 1;
                }
                if i < n && chars[i] == '&' {
                    // 2>&1
                    i += 1;
                    while i < n && (chars[i].is_ascii_digit() || chars[i] == '-') {
                        i += 1;
                    }
                    continue;
                }
                pending_redirect = true;
            }
            _ => {
                in_word = true;
                word.push(c);
                raw.push(c);
                i += 1;
            }
        }
    }
    end_cmd!("");
    cmds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<String> {
        Script::parse(s)
            .commands
            .iter()
            .map(|c| c.name().to_string())
            .collect()
    }

    #[test]
    fn splits_operators_and_quotes() {
        let s = Script::parse(
            "set -eux; apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y 'a b' \"c\" > /dev/null 2>&1 || true",
        );
        let n: Vec<_> = s.commands.iter().map(|c| c.name()).collect();
        assert_eq!(n, ["set", "apt-get", "apt-get", "true"]);
        assert_eq!(s.commands[2].args(), ["install", "-y", "a b", "c"]);
        assert_eq!(s.commands[2].redirects, ["/dev/null"]);
        assert!(!s.has_pipe());
    }

    #[test]
    fn pipes_subshells_and_wrappers() {
        assert_eq!(names("curl -fsSL x | sudo -u root bash"), ["curl", "bash"]);
        assert!(Script::parse("a | b").has_pipe());
        assert!(Script::parse("{ echo a; echo b; } | tee f").has_pipe());
        assert!(!Script::parse("case \"$a\" in x86_64|aarch64) echo ;; esac").has_pipe());
        assert!(Script::parse("x=\"$(ls | sort)\"").has_pipe());
        assert_eq!(
            names("(cd /x && make) ; echo $(uname -a)"),
            ["cd", "make", "uname", "echo"]
        );
        assert_eq!(
            names("sh -c 'apt-get install x && rm -rf y'"),
            ["sh", "apt-get", "rm"]
        );
        assert_eq!(
            names("if [ -f x ]; then\n rm x\nfi # done"),
            ["[", "then", "rm", "fi"]
        );
    }

    #[test]
    fn flags() {
        let s = Script::parse("apt-get -qy install --no-install-recommends x");
        let c = &s.commands[0];
        assert!(c.has_flag(Some('y'), &["--yes"]));
        assert!(c.has_flag(None, &["--no-install-recommends"]));
        assert_eq!(c.after_word("install").map(|a| a.len()), Some(2));
    }
}
