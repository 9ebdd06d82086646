//! The facade of the NDJSON batch pipeline, which the evaluation stage
//! runs ([`crate::eval::batch`]): [`RuleSet::assign_ndjson`].

use std::io::{self, BufRead, Write};

use crate::api::RuleSet;
use crate::eval::batch::{self, AssignOptions, BatchError, Compiled, Rejection, Summary};

impl RuleSet {
    /// Assigns every profile of `input`, one JSON object a line (NDJSON),
    /// and writes to `output` one line per assigned profile, in input
    /// order:
    ///
    /// ```text
    /// {"id":<the id field as written>,"solicitations":["a","b"],"issues":["c"]}
    /// ```
    ///
    /// with the streams in priority order. Each line that is not assigned
    /// goes to `rejections` instead, in line order, interleaved with the
    /// output a batch piece at a time; an error the callback returns ends
    /// the run ([`BatchError::Write`]). The lines are decoded as
    /// [`RuleSet::decode_line_into`] decodes them; a UTF-8 byte order mark
    /// at the start is skipped, and UTF-16 text refused
    /// ([`BatchError::Start`]). `output` is flushed before the summary is
    /// returned.
    ///
    /// This is the pipeline of `narval assign`. Lines are read in batches
    /// of 16,384, cut into pieces of 256 lines that `options.threads`
    /// threads take in turn, and written in input order: the output is the
    /// same for every thread count, and memory is bounded by two batches
    /// whatever the number of profiles.
    ///
    /// ```
    /// let rules = narval::RuleSet::builder()
    ///     .source("young.narval", "narval 1
    ///         schema { age: int }
    ///         solicitation streams youth_email
    ///         issue streams education
    ///         young: age < 30 -> youth_email, education")
    ///     .build()
    ///     .map_err(|report| report.render())?;
    /// let mut input = &b"{\"id\": 1, \"age\": 25}\n{\"id\": 2, \"age\": \"forty\"}\n"[..];
    /// let (mut output, mut rejected) = (Vec::new(), Vec::new());
    /// let summary = rules.assign_ndjson(
    ///     &mut input,
    ///     &mut output,
    ///     &mut |rejection| Ok(rejected.push((rejection.line, rejection.error.to_string()))),
    ///     &narval::AssignOptions { threads: 1, ..Default::default() },
    /// )?;
    /// assert_eq!(output, b"{\"id\":1,\"solicitations\":[\"youth_email\"],\"issues\":[\"education\"]}\n");
    /// assert_eq!(rejected, [(2, String::from("field `age` should be int, found a string"))]);
    /// assert_eq!((summary.read, summary.assigned, summary.rejected), (2, 1, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn assign_ndjson(
        &self,
        input: &mut dyn BufRead,
        output: &mut dyn Write,
        rejections: &mut dyn FnMut(Rejection<'_>) -> io::Result<()>,
        options: &AssignOptions,
    ) -> Result<Summary, BatchError> {
        let rules = Compiled { checked: &self.checked, reads: &self.reads, program: &self.program };
        batch::assign_ndjson(rules, input, output, rejections, options)
    }
}
