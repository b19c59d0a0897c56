//! What the command lines of node and hub share: clap's own words in Italian.

/// Clap's own words in Italian: the headings of the help and the help and version flags, on
/// every command of the tree (clap propagates none of them). Its parse errors stay English.
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
