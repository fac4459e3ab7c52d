// Package sample holds the one log the CLI bundles: the seed kill event of
// shared/corpus (a `kill -9` from a script). It is kept apart from the test
// corpus so the CLI embeds 568 bytes, not the corpus.
package sample

import _ "embed"

// Seed is seed-kill.log: the SYSCALL, OBJ_PID and PROCTITLE records of one
// kill(7677, SIGKILL) by `sh xdkill.sh`.
//
//go:embed seed-kill.log
var Seed []byte
