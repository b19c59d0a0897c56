//! SQL of the SUA workflow: convenzioni, procedures, participants, lots, transitions,
//! attachments.
