//! The Help Desk's part of the node's configuration (`[helpdesk]` in the TOML file,
//! `PICO_NODE_HELPDESK__*` in the environment): the attachment limit and the promised service
//! levels. The module owns them; `NodeConfig` only holds them under its name.

use serde::{Deserialize, Serialize};

/// Help Desk settings (`[helpdesk]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HelpdeskSettings {
    /// Largest attachment, in bytes.
    pub attachment_max_bytes: usize,
    /// Hours within which the Province should first answer a request.
    pub sla_first_response_hours: u32,
    /// Hours within which a request should be resolved.
    pub sla_resolution_hours: u32,
}

impl Default for HelpdeskSettings {
    fn default() -> Self {
        HelpdeskSettings {
            attachment_max_bytes: 5 * 1024 * 1024,
            sla_first_response_hours: 24,
            sla_resolution_hours: 120,
        }
    }
}

impl HelpdeskSettings {
    /// What is wrong with these settings, in words for the person who wrote the file.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.attachment_max_bytes > 50 * 1024 * 1024 {
            problems.push("helpdesk.attachment_max_bytes deve essere al massimo 50 MiB".to_owned());
        }
        if self.sla_first_response_hours == 0 || self.sla_resolution_hours == 0 {
            problems.push(
                "helpdesk.sla_first_response_hours e helpdesk.sla_resolution_hours devono essere almeno 1"
                    .to_owned(),
            );
        }
        problems
    }
}
