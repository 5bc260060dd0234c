// Command demo loads a realistic data set into a running writer through its HTTP API only: a dozen accounts
// with English and Japanese names, eight rooms, their members, hundreds or thousands (-messages) of chat
// messages in both languages, and a few edits, deletes and renames. It then prints a token for the demo
// account and curl commands for the query API:
//
//	make demo                                   # against `make run`
//	go run ./deploy/local/demo [-writer URL] [-messages 3000] [-concurrency 8] [-seed 1] [-ttl 12h]
//
// It signs its tokens with $AUTH_HS256_SECRET, or local-dev-secret when that is unset (the secret `make run`
// gives the services), with iss and aud from $AUTH_ISSUER and $AUTH_AUDIENCE when set. Accounts and members
// that exist already are fine, so it may run again; each run creates new rooms (the writer chooses room ids).
// It is a development tool: it reads the environment directly.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cqrses-aws/pipeline/internal/devtoken"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// defaultMessages is enough history to page through and search: on the local stack the 3,000 take about a
// minute (about 50 posts/s, moto serving one request at a time).
const defaultMessages = 3000

// options are the command line's flags.
type options struct {
	writer, query string
	messages      int
	concurrency   int
	seed          uint64
	ttl           time.Duration
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.writer, "writer", "http://127.0.0.1:8080", "the writer's base URL")
	fs.StringVar(&o.query, "query", "http://127.0.0.1:8081", "the query API's base URL, for the printed examples")
	fs.IntVar(&o.messages, "messages", defaultMessages, "how many messages to post")
	fs.IntVar(&o.concurrency, "concurrency", 8, "how many commands to send at a time")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated data: the same seed gives the same data set")
	fs.DurationVar(&o.ttl, "ttl", 12*time.Hour, "how long the printed token of the demo account is valid")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var errs []error
	for name, u := range map[string]string{"-writer": o.writer, "-query": o.query} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s must be an http(s) URL, not %q", name, u))
		}
	}
	if o.messages < 0 {
		errs = append(errs, errors.New("-messages must not be negative"))
	}
	if o.concurrency < 1 {
		errs = append(errs, errors.New("-concurrency must be positive"))
	}
	if o.ttl <= 0 {
		errs = append(errs, errors.New("-ttl must be positive"))
	}
	if fs.NArg() > 0 {
		errs = append(errs, errors.New("unexpected arguments after the flags"))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		fs.Usage()
		return o, err
	}
	o.writer, o.query = strings.TrimSuffix(o.writer, "/"), strings.TrimSuffix(o.query, "/")
	return o, nil
}

// run loads the data set described by args and the environment read through getenv, prints progress and the
// summary to stdout, and returns the exit code: 0, 1 when the load fails, 2 for bad usage.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if err != nil {
		return 2
	}
	settings := devtoken.FromEnv(getenv)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = o.concurrency
	client := &Client{
		BaseURL: o.writer,
		// Generous: on moto a command waits for every one queued before it, each slower as the journal grows.
		HTTP: &http.Client{Timeout: 2 * time.Minute, Transport: transport},
		// The loader's own tokens: long enough for any run.
		Token: func(sub string) (string, error) { return settings.Mint(sub, 24*time.Hour) },
	}
	if err := ready(ctx, client.HTTP, o.writer); err != nil {
		fmt.Fprintf(stderr, "demo: the writer at %s is not ready: %v\n  start the services with `make run` (or pass -writer URL)\n", o.writer, err)
		return 1
	}
	runID, err := newRunID()
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	plan := Generate(o.seed, o.messages)
	fmt.Fprintf(stdout, "demo: loading into the writer at %s (seed %d, run %s)\n", o.writer, o.seed, runID)
	l := &Loader{Client: client, Plan: plan, Concurrency: o.concurrency, RunID: runID, Progress: stdout}
	rep, err := l.Run(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		fmt.Fprintf(stdout, "demo: stopped after %s: %s\n", rep.Elapsed.Round(time.Millisecond), counts(rep, client))
		return 1
	}
	token, err := settings.Mint(DemoAccount, o.ttl)
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	summary(stdout, o, plan, rep, client, token)
	return 0
}

// ready checks once, with a short deadline, that the writer answers GET /readyz with 200.
func ready(ctx context.Context, hc *http.Client, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /readyz answered %s", resp.Status)
	}
	return nil
}

func newRunID() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("run id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// counts is the one-line account of what a run did.
func counts(rep Report, cl *Client) string {
	c := rep.Counts
	return fmt.Sprintf("%d accounts (%d new, %d existing), %d rooms, %d members added (%d already members), "+
		"%d messages (%d edited, %d deleted), %d rooms renamed, %d accounts renamed; %d requests, %d retried (429/503)",
		c.AccountsRegistered+c.AccountsExisting, c.AccountsRegistered, c.AccountsExisting, c.RoomsCreated,
		c.MembersAdded, c.MembersExisting, c.Messages, c.Edits, c.Deletes, c.RoomRenames, c.AccountRenames,
		cl.Requests(), cl.Retries())
}

// summary prints the counts, the demo account's token and curl commands against the query API.
func summary(w io.Writer, o options, plan Plan, rep Report, cl *Client, token string) {
	rate := float64(rep.Messages) / rep.Elapsed.Seconds()
	fmt.Fprintf(w, "\ndemo: done in %s: %s; %.0f messages/s\n", rep.Elapsed.Round(time.Millisecond), counts(rep, cl), rate)

	room, in := -1, 0
	for i, r := range plan.Rooms {
		if r.Creator == DemoAccount || slices.ContainsFunc(r.Members, func(m Member) bool { return m.AccountID == DemoAccount }) {
			in++
			if room < 0 {
				room = i
			}
		}
	}
	fmt.Fprintf(w, "\nThe demo account %q is a member of %d of the %d rooms. Its token, valid for %s:\n\n", DemoAccount, in, len(plan.Rooms), short(o.ttl))
	fmt.Fprintf(w, "  export TOKEN=%s\n", token)
	if room < 0 {
		return
	}
	name := plan.Rooms[room].Name
	if r := plan.Rooms[room].Rename; r != "" {
		name = r
	}
	fmt.Fprintf(w, "\nOne of its rooms: %s = %s\n", name, rep.RoomIDs[room])
	messages := o.query + "/v1/rooms/" + rep.RoomIDs[room] + "/messages?limit=20"
	if t := rep.RoomTokens[room]; t != "" {
		messages += "&consistent_with=" + url.QueryEscape(t)
	}
	fmt.Fprintf(w, "\nTry the query API (the projectors catch up within seconds; consistent_with waits for the room's last write):\n\n")
	fmt.Fprintf(w, "  curl -s -H \"Authorization: Bearer $TOKEN\" %s/v1/rooms\n", o.query)
	fmt.Fprintf(w, "  curl -s -H \"Authorization: Bearer $TOKEN\" '%s'\n", messages)
	fmt.Fprintf(w, "  curl -s -G -H \"Authorization: Bearer $TOKEN\" %s/v1/search --data-urlencode 'q=会議'\n", o.query)
}

// short formats d without zero minutes and seconds: 12h, 1h30m, 45m.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
