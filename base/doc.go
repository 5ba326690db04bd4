// Package base is ducktail's shared vocabulary: stream names and their rules,
// the names of the system columns every event carries, and the error kinds
// that the HTTP layer maps to status codes.
//
// It is the leaf of the import graph: it imports only the standard library,
// and every other ducktail package may import it.
package base
