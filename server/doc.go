// Package server is ducktail's HTTP face: routing, authentication (ingest
// tokens, the admin key), CORS, the mapping of engine errors to status codes
// and JSON bodies, and the handlers for ingest, reads, SQL, the admin API,
// health and metrics. Output encoders live in server/encode, token crypto in
// server/token.
//
// Handlers run on fasthttp. A Server is safe for concurrent use; its only
// mutable state is its metrics and the rotating token keys.
//
// It may import base, engine, query, storage and its own subpackages.
package server
