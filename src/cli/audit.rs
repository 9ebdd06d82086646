//! `narval audit`: the lineage of a rule set, with the verdict of the
//! policies in effect.

use std::io::Write as _;

use narval::Lineage;
use narval::LocatedDiagnostic;
use serde::Serialize;

use super::{builder, output_error, print_report, say, AuditArgs, Status, TraceFormat};

/// The document `--format json` writes (language guide, section 17.5).
#[derive(Serialize)]
struct JsonAudit<'a> {
    #[serde(flatten)]
    lineage: &'a Lineage,
    /// Present when some policy is in effect.
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<Verdict>,
    /// Every diagnostic of the check, policy violations included.
    diagnostics: Vec<LocatedDiagnostic>,
}

/// The verdict of the policies in effect.
#[derive(Serialize)]
struct Verdict {
    policies: Vec<String>,
    /// Whether the rule set reads only what the policies allow.
    ok: bool,
    /// Policy violations and policy-file errors.
    errors: usize,
}

/// Reports the lineage.
pub fn run(args: &AuditArgs) -> Status {
    let builder = match builder(&args.rules, args.today, args.import_root.as_deref()) {
        Ok(builder) => args.policy.iter().fold(builder, |b, p| b.policy_file(p)),
        Err(status) => return status,
    };
    let audit = match builder.audit() {
        Ok(audit) => audit,
        Err(report) => {
            if args.format == TraceFormat::Json {
                let document = serde_json::json!({ "diagnostics": report.located() });
                if let Err(status) = write(&format!("{document}\n")) {
                    return status;
                }
            } else {
                print_report(&report);
            }
            return Status::RuleErrors;
        }
    };
    let errors = audit.report.diagnostics().iter().filter(|d| d.is_error()).count();
    let written = match args.format {
        TraceFormat::Human => {
            if !audit.report.diagnostics().is_empty() {
                print_report(&audit.report);
            }
            let mut text = audit.lineage.render();
            if !audit.policies.is_empty() {
                let names: Vec<String> = audit.policies.iter().map(|p| format!("`{p}`")).collect();
                let (what, pronoun) = if names.len() == 1 { ("policy", "it") } else { ("policies", "they") };
                let verdict = match errors {
                    0 => format!(
                        "the rule set reads only what {pronoun} allow{}",
                        if names.len() == 1 { "s" } else { "" }
                    ),
                    1 => String::from("1 error, listed on stderr"),
                    n => format!("{n} errors, listed on stderr"),
                };
                text.push_str(&format!("\n{what} {}: {verdict}\n", names.join(", ")));
            }
            write(&text)
        }
        TraceFormat::Json => {
            let policy = (!audit.policies.is_empty()).then(|| Verdict {
                policies: audit.policies.clone(),
                ok: errors == 0,
                errors,
            });
            let document = JsonAudit { lineage: &audit.lineage, policy, diagnostics: audit.report.located() };
            match serde_json::to_string(&document) {
                Ok(json) => write(&format!("{json}\n")),
                Err(error) => {
                    say(format_args!("cannot write output: {error}"));
                    Err(Status::Output)
                }
            }
        }
    };
    match written {
        Err(status) => status,
        Ok(()) if errors > 0 => Status::RuleErrors,
        Ok(()) => Status::Success,
    }
}

fn write(text: &str) -> Result<(), Status> {
    let mut stdout = super::stdio::stdout();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).or_else(|error| output_error(&error))
}
