package main

import (
	"bytes"
	"fmt"
	"strings"
)

// multipartBoundary separates the parts of a bulk body. It cannot occur in
// the JSON events, which hold only digits and 'x' padding.
const multipartBoundary = "ducktail-loadgen-7f3a9c"

// multipartContentType is the Content-Type of the bodies multipartBodies
// builds: a Pipet bulk push (SPEC 4.2, multipart/mixed).
const multipartContentType = "multipart/mixed; boundary=" + multipartBoundary

// multipartBodies returns n variants of a multipart/mixed body of parts
// parts, each an application/json event of partSize bytes (as the single
// JSON events of buildBodies). Each body counts parts rows.
func multipartBodies(partSize, parts, n int) ([]body, error) {
	if parts < 1 {
		return nil, fmt.Errorf("-parts: %d is below 1", parts)
	}
	if n < 1 {
		return nil, fmt.Errorf("-variants: %d is below 1", n)
	}
	out := make([]body, n)
	for v := range out {
		var b bytes.Buffer
		for p := range parts {
			head := fmt.Sprintf(`{"variant":%d,"part":%d,"pad":"`, v, p)
			pad := max(partSize-len(head)-2, 0)
			b.WriteString("--" + multipartBoundary + "\r\nContent-Type: application/json\r\n\r\n")
			b.WriteString(head + strings.Repeat("x", pad) + `"}`)
			b.WriteString("\r\n")
		}
		b.WriteString("--" + multipartBoundary + "--\r\n")
		out[v] = body{data: b.Bytes(), rows: int64(parts)}
	}
	return out, nil
}
