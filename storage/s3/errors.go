package s3

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage"
)

// Retry hints, in milliseconds, of the errors wrapping base.ErrOverCapacity:
// a transient failure (network, 5xx, throttling) may pass soon; a
// configuration error (credentials, bucket) needs an operator.
const (
	retryTransientMs = 1000
	retryConfigMs    = 10000
)

// httpStatus returns the HTTP status of the response that made err, or 0.
func httpStatus(err error) int {
	var hs interface{ HTTPStatusCode() int }
	if errors.As(err, &hs) {
		return hs.HTTPStatusCode()
	}
	return 0
}

// apiCode returns S3's error code ("NoSuchKey", "PreconditionFailed") of
// err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isPreconditionFailed reports whether err is S3's answer to a conditional
// write whose key exists (412), or a conflicting concurrent conditional
// write (409 ConditionalRequestConflict).
func isPreconditionFailed(err error) bool {
	code := apiCode(err)
	return httpStatus(err) == 412 || code == "PreconditionFailed" || code == "ConditionalRequestConflict"
}

// isNotFound reports whether err says that an object does not exist.
func isNotFound(err error) bool {
	code := apiCode(err)
	if code == "NoSuchBucket" {
		return false
	}
	return code == "NoSuchKey" || code == "NotFound" || httpStatus(err) == 404
}

// isDenied reports whether err is S3 refusing the credentials.
func isDenied(err error) bool {
	switch apiCode(err) {
	case "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch",
		"ExpiredToken", "InvalidToken", "TokenRefreshRequired", "AccountProblem":
		return true
	}
	return httpStatus(err) == 403
}

// wrapErr turns an error of the S3 operation op on key (or on the bucket when
// key is "") into an error of a base kind: a cancelled context stays as it
// is, and every other failure is base.ErrOverCapacity with a retry hint and
// a message saying what to check. Callers check isNotFound and
// isPreconditionFailed first where those mean something.
func (s *Store) wrapErr(op, key string, err error) error {
	what := fmt.Sprintf("%s s3://%s/%s%s", op, s.opts.Bucket, s.opts.Prefix, key)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("s3: %s: %w", what, err)
	}
	var msg string
	retry := int64(retryTransientMs)
	switch {
	case apiCode(err) == "NoSuchBucket" || (key == "" && httpStatus(err) == 404):
		msg = fmt.Sprintf("s3: cannot %s: bucket %q does not exist at this endpoint (check storage.s3.bucket and storage.s3.endpoint): %v",
			what, s.opts.Bucket, err)
		retry = retryConfigMs
	case isDenied(err):
		msg = fmt.Sprintf("s3: cannot %s: access denied to bucket %q (check the AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, and storage.s3.bucket/storage.s3.region): %v",
			what, s.opts.Bucket, err)
		retry = retryConfigMs
	default:
		msg = fmt.Sprintf("s3: cannot %s: %v; storage unavailable, retry later", what, err)
	}
	return &base.Error{Kind: base.ErrOverCapacity, Msg: msg, RetryAfterMs: retry, Err: err}
}

// existsErr is the error of a conditional write that lost.
func existsErr(key string) error {
	return fmt.Errorf("s3: put %s: %w", key, storage.ErrExists)
}
