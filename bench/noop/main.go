package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// maxBodyBytes is server.Options.MaxBodyBytes's default.
const maxBodyBytes = 1 << 20

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "noop:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("noop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := newServer()
	fmt.Fprintf(stdout, "noop listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.ShutdownWithContext(sctx)
}

// newServer returns a fasthttp.Server with ducktail's settings (see
// server.New) and the no-op handler.
func newServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:              handle,
		Name:                 "ducktail-noop",
		MaxRequestBodySize:   maxBodyBytes,
		ReadTimeout:          60 * time.Second,
		WriteTimeout:         60 * time.Second,
		IdleTimeout:          120 * time.Second,
		NoDefaultContentType: true,
		ReduceMemoryUsage:    false,
		CloseOnShutdown:      true,
	}
}

// handle reads the body and answers like an ingest would:
// {"topic":"noop","rows":0,"first_id":0,"last_id":<body length>}.
func handle(ctx *fasthttp.RequestCtx) {
	n := len(ctx.Request.Body())
	ctx.SetContentType("application/json")
	b := append(ctx.Response.Body()[:0], `{"topic":"noop","rows":0,"first_id":0,"last_id":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, "}\n"...)
	ctx.SetBody(b)
}
