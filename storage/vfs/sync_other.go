//go:build !linux

package vfs

// SyncData makes f's written bytes durable. Outside Linux it is f.Sync.
func SyncData(f File) error { return f.Sync() }
