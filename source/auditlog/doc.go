// Package auditlog reads audit log files: Tail follows live ones (one file
// or a glob, auditd's rename rotation and copytruncate, positions
// persisted for a restart without loss or duplicates), Reader reads a
// finished one once.
//
// Tail hands out complete lines with their positions (Pos: file
// generation and byte offset). Reading never moves the persisted
// position; only Commit does, so the pipeline commits what it has really
// delivered and a restart resumes exactly there, in the right file even if
// it was rotated in between.
package auditlog
