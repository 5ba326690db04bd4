package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// partConcurrency bounds the parts of one multipart upload in flight.
const partConcurrency = 4

// abortTimeout bounds the AbortMultipartUpload of a failed upload, which
// runs even when the caller's context is cancelled.
const abortTimeout = 30 * time.Second

// upload writes the size bytes of src at key: one PutObject up to
// Options.PartSize, a multipart upload above. With ifAbsent the write is
// conditional (If-None-Match: *) and losing is an error wrapping
// storage.ErrExists, unless the object found holds exactly src's bytes (an
// earlier attempt of this same write, retried by the SDK after its answer was
// lost, may have made it).
func (s *Store) upload(ctx context.Context, key string, src io.ReaderAt, size int64, ifAbsent bool) error {
	var err error
	if size <= s.opts.PartSize {
		err = s.putObject(ctx, key, src, size, ifAbsent)
	} else {
		err = s.multipart(ctx, key, src, size, ifAbsent)
	}
	if err == nil || !ifAbsent || !isPreconditionFailed(err) {
		return err
	}
	if size <= s.opts.PartSize && s.holds(ctx, key, src, size) {
		s.opts.Logger.Debug("s3: conditional put found its own bytes", "key", key)
		return nil
	}
	return existsErr(key)
}

func (s *Store) putObject(ctx context.Context, key string, src io.ReaderAt, size int64, ifAbsent bool) error {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.opts.Bucket),
		Key:           aws.String(s.objectKey(key)),
		Body:          io.NewSectionReader(src, 0, size),
		ContentLength: aws.Int64(size),
	}
	if ifAbsent {
		in.IfNoneMatch = aws.String("*")
	}
	if _, err := s.client.PutObject(ctx, in); err != nil {
		if ifAbsent && isPreconditionFailed(err) {
			return err
		}
		return s.wrapErr("put", key, err)
	}
	return nil
}

// multipart uploads src in parts of Options.PartSize, up to partConcurrency
// at a time. With ifAbsent, Complete carries If-None-Match: * (S3 checks the
// condition only then). On any failure the upload is aborted, so no parts
// are left behind.
func (s *Store) multipart(ctx context.Context, key string, src io.ReaderAt, size int64, ifAbsent bool) error {
	bucket, okey := aws.String(s.opts.Bucket), aws.String(s.objectKey(key))
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:            bucket,
		Key:               okey,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return s.wrapErr("start multipart upload of", key, err)
	}
	id := created.UploadId
	abort := func() {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
		defer cancel()
		_, err := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: okey, UploadId: id})
		if err != nil {
			s.opts.Logger.Warn("s3: cannot abort multipart upload; a bucket lifecycle rule for incomplete uploads removes its parts",
				"key", key, "upload_id", aws.ToString(id), "err", err)
		}
	}

	n := int((size + s.opts.PartSize - 1) / s.opts.PartSize)
	parts := make([]types.CompletedPart, n)
	errs := make([]error, n)
	pctx, cancel := context.WithCancel(ctx)
	sem := make(chan struct{}, partConcurrency)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		if pctx.Err() != nil {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			off := int64(i) * s.opts.PartSize
			length := min(s.opts.PartSize, size-off)
			num := aws.Int32(int32(i + 1))
			out, err := s.client.UploadPart(pctx, &s3.UploadPartInput{
				Bucket:            bucket,
				Key:               okey,
				UploadId:          id,
				PartNumber:        num,
				Body:              io.NewSectionReader(src, off, length),
				ContentLength:     aws.Int64(length),
				ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
			})
			if err != nil {
				errs[i] = err
				cancel()
				return
			}
			parts[i] = types.CompletedPart{PartNumber: num, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32}
		}()
	}
	wg.Wait()
	cancel()
	for i, err := range errs {
		if err != nil {
			abort()
			return s.wrapErr(fmt.Sprintf("upload part %d of", i+1), key, err)
		}
	}
	if err := ctx.Err(); err != nil {
		abort()
		return fmt.Errorf("s3: upload of %s: %w", key, err)
	}

	in := &s3.CompleteMultipartUploadInput{
		Bucket:          bucket,
		Key:             okey,
		UploadId:        id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}
	if ifAbsent {
		in.IfNoneMatch = aws.String("*")
	}
	if _, err := s.client.CompleteMultipartUpload(ctx, in); err != nil {
		abort()
		if ifAbsent && isPreconditionFailed(err) {
			return err
		}
		return s.wrapErr("complete multipart upload of", key, err)
	}
	return nil
}

// holds reports whether the object at key holds exactly the size bytes of
// src. Any error is a no.
func (s *Store) holds(ctx context.Context, key string, src io.ReaderAt, size int64) bool {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.opts.Bucket),
		Key:    aws.String(s.objectKey(key)),
	})
	if err != nil {
		return false
	}
	defer out.Body.Close()
	if aws.ToInt64(out.ContentLength) != size {
		return false
	}
	got, err := io.ReadAll(io.LimitReader(out.Body, size+1))
	if err != nil || int64(len(got)) != size {
		return false
	}
	want := make([]byte, size)
	if _, err := src.ReadAt(want, 0); err != nil && err != io.EOF {
		return false
	}
	return bytes.Equal(got, want)
}
