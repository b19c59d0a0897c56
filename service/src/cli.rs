//! What the command lines of node and hub share: clap's own words in Italian, its help and its
//! usage errors alike.

use clap::builder::StyledStr;
use clap::error::{ContextKind, ContextValue, ErrorFormatter, ErrorKind};

/// Clap's own words in Italian: the headings of the help and the help and version flags, on
/// every command of the tree (clap propagates none of them). Its usage errors are told by
/// [`Italian`], through [`matches_from`] and [`exit`].
pub fn in_italian(command: clap::Command) -> clap::Command {
    fn each(command: clap::Command, root: bool) -> clap::Command {
        let mut template = String::from("{before-help}{about-with-newline}\nUso: {usage}\n");
        if command.has_subcommands() {
            template.push_str("\nComandi:\n{subcommands}\n");
        }
        if command.get_positionals().next().is_some() {
            template.push_str("\nArgomenti:\n{positionals}\n");
        }
        template.push_str("\nOpzioni:\n{options}{after-help}");
        let mut command = command
            .help_template(template)
            .disable_help_subcommand(true)
            .disable_help_flag(true)
            .arg(
                clap::Arg::new("help")
                    .short('h')
                    .long("help")
                    .action(clap::ArgAction::Help)
                    .help("Mostra questo aiuto"),
            );
        if root {
            command = command.disable_version_flag(true).arg(
                clap::Arg::new("version")
                    .short('V')
                    .long("version")
                    .action(clap::ArgAction::Version)
                    .help("Mostra la versione"),
            );
        }
        let names: Vec<String> = command
            .get_subcommands()
            .map(|sub| sub.get_name().to_owned())
            .collect();
        for name in names {
            command = command.mut_subcommand(name, |sub| each(sub, false));
        }
        command
    }
    each(command, true)
}

/// Parses `args` with `command` (which [`in_italian`] has prepared); on a usage mistake says
/// what is wrong in Italian and exits with clap's status, as clap itself would.
pub fn matches_from<I, T>(command: clap::Command, args: I) -> clap::ArgMatches
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    command
        .try_get_matches_from(args)
        .unwrap_or_else(|error| exit(error))
}

/// Prints `error` (in Italian when it is a usage mistake; help and version as they are) and
/// exits with its status.
pub fn exit(error: clap::Error) -> ! {
    if error.use_stderr() {
        error.apply::<Italian>().exit()
    } else {
        error.exit()
    }
}

/// Clap's usage errors in Italian: what is wrong, a suggestion when clap has one, the usage
/// line and where to find the help.
#[derive(Debug)]
pub struct Italian;

impl ErrorFormatter for Italian {
    fn format_error(error: &clap::error::Error<Self>) -> StyledStr {
        let text = |kind| error.get(kind).map(words).unwrap_or_default();
        let (arg, value) = (
            text(ContextKind::InvalidArg),
            text(ContextKind::InvalidValue),
        );
        let mut message = match error.kind() {
            ErrorKind::InvalidSubcommand => {
                format!(
                    "il comando «{}» non esiste",
                    text(ContextKind::InvalidSubcommand)
                )
            }
            ErrorKind::UnknownArgument => format!("l'argomento «{arg}» non è previsto qui"),
            ErrorKind::InvalidValue if value.is_empty() => format!("manca il valore di {arg}"),
            ErrorKind::InvalidValue => format!("«{value}» non è un valore valido per {arg}"),
            ErrorKind::ValueValidation => {
                let why = std::error::Error::source(error)
                    .map(|source| format!(": {source}"))
                    .unwrap_or_default();
                format!("«{value}» non è un valore valido per {arg}{why}")
            }
            ErrorKind::MissingRequiredArgument => {
                let missing = match error.get(ContextKind::InvalidArg) {
                    Some(ContextValue::Strings(args)) => args.join(", "),
                    _ => arg,
                };
                format!("mancano argomenti obbligatori: {missing}")
            }
            ErrorKind::MissingSubcommand => "manca il comando".to_owned(),
            ErrorKind::ArgumentConflict => format!(
                "{arg} non si può usare insieme a {}",
                text(ContextKind::PriorArg)
            ),
            ErrorKind::NoEquals => format!("{arg} vuole il valore dopo «=»"),
            ErrorKind::TooManyValues => format!("troppi valori per {arg}: «{value}» è di troppo"),
            ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
                // Too few names the least a list takes; a wrong number, the exact one.
                let wanted = match error.get(ContextKind::ExpectedNumValues) {
                    Some(expected) => words(expected),
                    None => format!("almeno {}", text(ContextKind::MinValues)),
                };
                let actual = text(ContextKind::ActualNumValues);
                format!("{arg} vuole {wanted} valori, ne ha {actual}")
            }
            ErrorKind::InvalidUtf8 => "un argomento non è testo UTF-8 valido".to_owned(),
            _ => "argomenti non validi".to_owned(),
        };
        for (kind, what) in [
            (ContextKind::ValidValue, "valori possibili"),
            (ContextKind::ValidSubcommand, "comandi possibili"),
            (ContextKind::SuggestedSubcommand, "forse intendevate"),
            (ContextKind::SuggestedArg, "forse intendevate"),
            (ContextKind::SuggestedValue, "forse intendevate"),
        ] {
            let options = text(kind);
            if !options.is_empty() {
                message.push_str(&format!("\n  {what}: {options}"));
            }
        }
        let usage = text(ContextKind::Usage);
        let usage = usage.trim().trim_start_matches("Usage:").trim();
        StyledStr::from(format!(
            "errore: {message}\n\nUso: {usage}\n\nPer l'aiuto aggiungete --help.\n"
        ))
    }
}

/// A context value as plain words (a list joined by commas).
fn words(value: &ContextValue) -> String {
    match value {
        ContextValue::String(text) => text.clone(),
        ContextValue::Strings(texts) => texts.join(", "),
        ContextValue::StyledStr(text) => text.to_string(),
        ContextValue::StyledStrs(texts) => texts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        ContextValue::Number(number) => number.to_string(),
        ContextValue::Bool(flag) => flag.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command() -> clap::Command {
        in_italian(
            clap::Command::new("pico-node")
                .version("1.0")
                .subcommand_required(true)
                .subcommand(
                    clap::Command::new("dataset")
                        .arg(clap::Arg::new("name").long("name").required(true))
                        .arg(
                            clap::Arg::new("federation")
                                .long("federation")
                                .value_parser(["national", "off"]),
                        )
                        .arg(clap::Arg::new("range").long("range").num_args(2))
                        .arg(
                            clap::Arg::new("rows")
                                .long("rows")
                                .value_parser(clap::value_parser!(u32)),
                        ),
                ),
        )
    }

    fn told(args: &[&str]) -> String {
        let error = command()
            .try_get_matches_from(args)
            .expect_err("a usage mistake");
        assert!(error.use_stderr());
        error.apply::<Italian>().to_string()
    }

    #[test]
    fn usage_mistakes_are_told_in_italian_with_the_usage() {
        let unknown = told(&["pico-node", "datset"]);
        assert!(
            unknown.starts_with("errore: il comando «datset» non esiste"),
            "{unknown}"
        );
        assert!(unknown.contains("forse intendevate: dataset"), "{unknown}");
        assert!(unknown.contains("\nUso: pico-node"), "{unknown}");
        assert!(
            unknown.ends_with("Per l'aiuto aggiungete --help.\n"),
            "{unknown}"
        );

        let missing = told(&["pico-node", "dataset"]);
        assert!(
            missing.contains("mancano argomenti obbligatori: --name <name>"),
            "{missing}"
        );
        let value = told(&["pico-node", "dataset", "--name", "x", "--federation", "on"]);
        assert!(
            value.contains("«on» non è un valore valido per --federation <federation>"),
            "{value}"
        );
        assert!(value.contains("valori possibili: national, off"), "{value}");
        let argument = told(&["pico-node", "dataset", "--name", "x", "--replace"]);
        assert!(
            argument.contains("l'argomento «--replace» non è previsto qui"),
            "{argument}"
        );

        let count = told(&["pico-node", "dataset", "--name", "x", "--range", "1"]);
        assert!(count.contains("vuole 2 valori, ne ha 1"), "{count}");

        for text in [unknown, missing, value, argument, count] {
            for english in [
                "error:",
                "Usage",
                "For more information",
                "tip:",
                "invalid value",
            ] {
                assert!(!text.contains(english), "{english:?} in {text}");
            }
        }
    }
}
