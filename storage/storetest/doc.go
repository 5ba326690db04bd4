// Package storetest is the test suite of the storage.Store contract: the
// behaviour every Store (storage.Local, the S3 store) must share. A store's
// own tests call Run with a function that opens a fresh, empty store, and
// keep only what is particular to that store (failure injection, caches,
// multipart uploads, temporary-file cleanup).
//
// It also holds helpers for tests that race PutIfAbsent (directly or through
// manifest.Commit) and must find exactly one winner.
//
// It imports storage, base and the standard library only, so any store's
// tests can use it without an import cycle.
package storetest
