//! The command examples of a markdown file: its ```sh blocks, who runs
//! each (an HTML comment the reader does not see, on the line before the
//! block), and the commands in them, split into words as the shell would.
//!
//! ```text
//! <!-- run as: sakura-clinic -->                   every command of the block
//! <!-- run as: sakura-clinic, minato-center -->    one agency per command, in order
//! <!-- run as: sakura-clinic; refused: 範囲外 -->   must fail, saying this
//! <!-- run as: hub -->                              `tsunagu audit …` on the hub's machine
//! <!-- run as: minato-center; hub clock: 2026-12-03 16:00 -->
//!                                 the hub's clock first moves to this time (JST)
//! ```

/// One ```sh block with commands to run.
#[derive(Debug, PartialEq)]
pub struct Block {
    /// Line of the opening fence (1-based), for messages.
    pub line: usize,
    /// Who runs it, from the annotation (empty without one).
    pub run_as: Vec<String>,
    /// The text the refusal must contain, when the block must fail.
    pub refused: Option<String>,
    /// The time (JST, as the doc writes it) the hub clock moves to first.
    pub clock: Option<String>,
    /// `tsunagu …` and `export …` lines, continuations joined, comments dropped.
    pub commands: Vec<String>,
}

impl Block {
    /// A fenced block of another language (line 0): holds no command.
    fn ignored() -> Block {
        Block {
            line: 0,
            run_as: Vec::new(),
            refused: None,
            clock: None,
            commands: Vec::new(),
        }
    }

    /// The `tsunagu agency …` commands (what every block must say who runs).
    pub fn agency_commands(&self) -> impl Iterator<Item = &String> {
        self.commands
            .iter()
            .filter(|c| c.starts_with("tsunagu agency "))
    }

    /// Who runs the `n`th `tsunagu` command of the block.
    pub fn runner(&self, n: usize) -> &str {
        match self.run_as.as_slice() {
            [one] => one,
            many => &many[n],
        }
    }
}

/// Every ```sh block that holds a `tsunagu` command.
pub fn blocks(text: &str) -> Vec<Block> {
    let (mut blocks, mut current, mut annotation) = (Vec::new(), None::<Block>, None);
    let mut joined = String::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            match current.take() {
                Some(block) => {
                    let sh = block.line != 0;
                    if sh && block.commands.iter().any(|c| c.starts_with("tsunagu ")) {
                        blocks.push(block);
                    }
                }
                None if trimmed == "```sh" => {
                    let Annotation {
                        run_as,
                        refused,
                        clock,
                    } = annotation.take().unwrap_or_default();
                    current = Some(Block {
                        line: i + 1,
                        run_as,
                        refused,
                        clock,
                        commands: Vec::new(),
                    });
                }
                // Another language: skip it (its closing fence included).
                None => current = Some(Block::ignored()),
            }
            continue;
        }
        annotation = parse_annotation(trimmed);
        let Some(block) = current.as_mut().filter(|b| b.line != 0) else {
            continue;
        };
        let wanted = trimmed.starts_with("tsunagu ") || trimmed.starts_with("export ");
        if joined.is_empty() && !wanted {
            continue;
        }
        let code = strip_comment(trimmed);
        match code.strip_suffix('\\') {
            Some(head) => {
                joined.push_str(head.trim_end());
                joined.push(' ');
            }
            None => {
                joined.push_str(code);
                block.commands.push(std::mem::take(&mut joined));
            }
        }
    }
    blocks
}

/// What the comment before a block says.
#[derive(Default)]
struct Annotation {
    run_as: Vec<String>,
    refused: Option<String>,
    clock: Option<String>,
}

/// `<!-- run as: a, b; refused: text; hub clock: 2026-12-03 16:00 -->`.
fn parse_annotation(line: &str) -> Option<Annotation> {
    let inner = line.strip_prefix("<!--")?.strip_suffix("-->")?.trim();
    let mut parts = inner.split(';').map(str::trim);
    let run_as = parts.next()?.strip_prefix("run as:")?;
    let mut found = Annotation {
        run_as: run_as.split(',').map(|s| s.trim().to_owned()).collect(),
        ..Annotation::default()
    };
    for part in parts {
        if let Some(r) = part.strip_prefix("refused:") {
            found.refused = Some(r.trim().to_owned());
        } else if let Some(t) = part.strip_prefix("hub clock:") {
            found.clock = Some(t.trim().to_owned());
        }
    }
    Some(found)
}

/// The line without a trailing ` # comment` (a `#` inside quotes stays).
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted && line[..i].ends_with(' ') => return line[..i].trim_end(),
            _ => {}
        }
    }
    line
}

/// Split like the shell does for these examples: spaces, double quotes.
pub fn words(command: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut started) = (vec![], String::new(), false, false);
    for c in command.chars() {
        match c {
            '"' => (quoted, started) = (!quoted, true),
            ' ' if !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                }
                started = false;
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

#[test]
fn blocks_join_continuations_drop_comments_and_read_the_annotation() {
    let text = "<!-- run as: sakura-clinic; refused: 範囲外 -->\n```sh\n\
                tsunagu agency case --x \"a # b\" \\\n    --y z   # note\n# output\n```\n\
                ```toml\ntsunagu = 1\n```\n```sh\ncargo test\n```\n";
    let blocks = blocks(text);
    assert_eq!(
        blocks,
        [Block {
            line: 2,
            run_as: vec!["sakura-clinic".into()],
            refused: Some("範囲外".into()),
            clock: None,
            commands: vec!["tsunagu agency case --x \"a # b\" --y z".into()],
        }]
    );
    assert_eq!(words(&blocks[0].commands[0])[4], "a # b");
    assert_eq!(
        words("export A=\"佐藤 美咲\" B=x"),
        ["export", "A=佐藤 美咲", "B=x"]
    );
}

#[test]
fn an_annotation_may_move_the_hub_clock_first() {
    let text = "<!-- run as: a; hub clock: 2026-12-03 16:00 -->\n```sh\ntsunagu agency x\n```\n";
    let blocks = blocks(text);
    assert_eq!(blocks[0].clock.as_deref(), Some("2026-12-03 16:00"));
    assert_eq!(blocks[0].refused, None);
}

#[test]
fn an_annotation_names_one_agency_per_command() {
    let text = "<!-- run as: a, b -->\n```sh\ntsunagu agency x\n\ntsunagu agency y\n```\n";
    let blocks = blocks(text);
    assert_eq!((blocks[0].runner(0), blocks[0].runner(1)), ("a", "b"));
}
