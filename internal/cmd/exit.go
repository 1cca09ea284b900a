package cmd

import (
	"fmt"
	"strings"
)

// Exit codes, the same for every command.
const (
	exitOK = 0
	// exitError: the command could not answer (bad input, the API unreachable or refusing).
	exitError = 1
	// exitFinding: a threshold crossed, or a finding the command exists to flag.
	exitFinding = 2
	// exitMismatch: the live check disagrees with the model.
	exitMismatch = 3
	// exitIncomplete: the answer is incomplete, a read it needs failed; what was read is printed.
	exitIncomplete = 4
)

// exitCodesHelp ends every command's help.
const exitCodesHelp = `Exit codes: 0 ok; 1 error (bad input, the API unreachable or refusing); 2 a threshold crossed or a
finding the command exists to flag (cidr-usage --fail-at or a --plan-nodes that does not fit; dns
and summary when cluster DNS is broken, dns --lookup failing, policy matrix --with/--without breaking
a client -> Service connection, check overlay when a pair of nodes fails a check, overlap when an
overlap breaks the --for goal; over several clusters, a finding in any); 3 the live check (trace
--probe, --connect) disagrees with the model; 4 the answer is incomplete: a read it needs failed, a
probe could not run, a check could not be made, or one of several clusters did not answer (what
could be read is printed).`

// finding is exit 2 with the finding.
func finding(err error) error { return &ExitError{Code: exitFinding, Err: err} }

// incomplete is exit 4 naming what could not be read, or nil when everything was.
func incomplete(gaps []string) error {
	if len(gaps) == 0 {
		return nil
	}
	return &ExitError{Code: exitIncomplete, Err: fmt.Errorf("the answer is incomplete: could not read %s (see the notes above); grant the reads or run with a user who has them", strings.Join(gaps, "; "))}
}
