package s3

import (
	"context"
	"errors"
	"fmt"
	"github.com/ducktail/ducktail/storage"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ducktail/ducktail/base"
)

// minPartSize is the smallest part S3 accepts in a multipart upload (all
// parts but the last).
const minPartSize = 5 << 20

// defaultPartSize is Options.PartSize's default.
const defaultPartSize = 16 << 20

// defaultRegion is used when neither Options.Region nor the AWS environment
// names one; MinIO accepts it.
const defaultRegion = "us-east-1"

// Timeouts of the HTTP client New builds. There is no overall request
// timeout, which would cut off a large upload on a slow link; instead a
// server that accepts a request and then says nothing fails it.
const (
	dialTimeout           = 5 * time.Second
	responseHeaderTimeout = 30 * time.Second
)

// Options configure a Store. Zero fields take the defaults given.
type Options struct {
	// Bucket is the bucket holding the objects (storage.s3.bucket). Required.
	Bucket string
	// Prefix is prepended to every key (storage.s3.prefix), for example
	// "ducktail/"; a missing trailing '/' is added. Default: none.
	Prefix string
	// Endpoint is the S3 endpoint URL (storage.s3.endpoint), for example
	// "http://127.0.0.1:9000"; without a scheme https is assumed. Default:
	// AWS's endpoint for Region. Ignored when Client is set.
	Endpoint string
	// Region (storage.s3.region). Default: from the AWS environment, else
	// us-east-1. Ignored when Client is set.
	Region string
	// PathStyle addresses the bucket in the path rather than the host name
	// (storage.s3.path_style); MinIO usually needs it. Ignored when Client
	// is set.
	PathStyle bool
	// CacheDir is the local directory for cached objects and upload spools.
	// Required; made if missing. One Store per directory.
	CacheDir string
	// Client is the S3 client to use. Default: one built from the AWS
	// default configuration chain (environment, shared config and
	// credentials files, web identity, ECS/EC2 roles) with Endpoint, Region
	// and PathStyle.
	Client *s3.Client
	// PartSize is the size of a multipart upload's parts; larger objects are
	// uploaded in parts. Default 16 MiB; at least 5 MiB (S3's minimum).
	PartSize int64
	// Logger receives debug and warning messages. Default: slog.Default().
	Logger *slog.Logger
}

// EnsureDefaults fills the zero fields that have defaults.
func (o *Options) EnsureDefaults() {
	if o.Prefix != "" && !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	if o.PartSize == 0 {
		o.PartSize = defaultPartSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Validate reports every problem of o at once, naming the config keys.
func (o *Options) Validate() error {
	var errs []error
	if o.Bucket == "" {
		errs = append(errs, errors.New("storage.s3.bucket is required"))
	}
	if o.Prefix != "" {
		if strings.HasPrefix(o.Prefix, "/") {
			errs = append(errs, fmt.Errorf("storage.s3.prefix %q must not start with '/'", o.Prefix))
		} else if err := storage.CheckPrefix(o.Prefix); err != nil {
			errs = append(errs, fmt.Errorf("storage.s3.prefix: %w", err))
		}
	}
	if o.CacheDir == "" {
		errs = append(errs, errors.New("the S3 cache directory is required"))
	}
	if o.PartSize < minPartSize {
		errs = append(errs, fmt.Errorf("part size %d is below S3's minimum of %d bytes", o.PartSize, minPartSize))
	}
	if len(errs) == 0 {
		return nil
	}
	return base.Errorf(base.ErrInvalid, "s3: bad options: %w", errors.Join(errs...))
}

// buildClient makes an S3 client from the AWS default chain and o's
// endpoint, region and addressing style.
func (o *Options) buildClient(ctx context.Context) (*s3.Client, error) {
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout }).
		WithTransportOptions(func(t *http.Transport) { t.ResponseHeaderTimeout = responseHeaderTimeout })
	loadOpts := []func(*config.LoadOptions) error{config.WithHTTPClient(httpClient)}
	if o.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(o.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, base.Errorf(base.ErrInvalid, "s3: cannot load the AWS configuration (environment, ~/.aws files): %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	endpoint := o.Endpoint
	if endpoint != "" && !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		if endpoint != "" {
			so.BaseEndpoint = aws.String(endpoint)
		}
		so.UsePathStyle = o.PathStyle
	}), nil
}
