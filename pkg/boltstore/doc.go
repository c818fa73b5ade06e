// Package boltstore is the embedded event store of the single binary: one
// bbolt file, pure Go, implementing event.Store and event.ChangeFeed.
//
// Its contract beyond those interfaces:
//   - A nil error from Put, Ack or SaveCheckpoint means the change is
//     fsynced. Concurrent writers share transactions and fsyncs (group
//     commit), so throughput grows with the number of writers.
//   - Every change writes its outbox record (the change feed) in the same
//     transaction, so the feed never misses or invents a change.
//   - ListPending costs one seek plus the page, whatever the backlog.
//   - Reads never return expired events; SweepExpired (or RunSweeper)
//     removes them, in bounded transactions, and prunes the outbox.
//   - A corrupt or foreign record is CodeInternal naming it, never a panic.
//   - Open fails fast when another process holds the file.
//
// The file layout, record format and the benchmarks behind the defaults are
// in docs/storage.md.
package boltstore
