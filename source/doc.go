// Package source is where audit records come from: audit log files
// (File: tail one file or a glob of them, follow auditd's rename rotation
// and copytruncate, persist positions for a restart without loss or
// duplicates) and the kernel audit netlink socket.
//
// A File hands out complete lines with their positions (Pos: file
// generation and byte offset). Reading never moves the persisted
// position; only Commit does, so the pipeline commits what it has really
// delivered and a restart resumes exactly there, in the right file even if
// it was rotated in between.
package source
