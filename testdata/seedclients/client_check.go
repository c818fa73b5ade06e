// The checks on the seed developer guide's Go client (client.go): ours, not
// the guide's.
//
// Go runs nothing after main returns, so the checks run the guide's main
// themselves, from init, with its output captured, and exit before the
// runtime would call main a second time. A panic in the guide's main (its
// way of reporting an error) ends the program with exit code 2.

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
)

func init() {
	printed := captureStdout(main)
	if err := checkSeedRun(printed); err != nil {
		fmt.Fprintf(os.Stderr, "seed client check failed: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("seed client checks passed")
	os.Exit(0)
}

// captureStdout runs f with os.Stdout going to the real stdout and to the
// returned string.
func captureStdout(f func()) string {
	real := os.Stdout
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.MultiWriter(real, &buf), r)
		close(copied)
	}()
	os.Stdout = w
	done := func() string {
		os.Stdout = real
		w.Close()
		<-copied
		return buf.String()
	}
	defer func() {
		if r := recover(); r != nil {
			done() // show what f printed before its panic
			panic(r)
		}
	}()
	f()
	return done()
}

var (
	createdLine = regexp.MustCompile(`(?m)^Event created: (\S+)$`)
	pendingLine = regexp.MustCompile(`(?m)^Pending events: ([1-9][0-9]*)$`)
)

// checkSeedRun checks what the guide's main printed against the server,
// using the guide's own client type, then acknowledges the event (the
// guide's Go client has no method for that).
func checkSeedRun(printed string) error {
	m := createdLine.FindStringSubmatch(printed)
	if m == nil {
		return fmt.Errorf("main printed no created event id: %q", printed)
	}
	id := m[1]
	if !pendingLine.MatchString(printed) {
		return fmt.Errorf("main printed no positive pending count: %q", printed)
	}

	c := &ZapierTriggersClient{APIURL: os.Getenv("API_URL"), APIKey: os.Getenv("API_KEY")}
	events, err := c.GetInbox()
	if err != nil {
		return fmt.Errorf("GetInbox: %w", err)
	}
	if len(events) == 0 || events[0].ID != id {
		return fmt.Errorf("GetInbox: got %+v, want %s first (newest first)", events, id)
	}
	got := events[0]
	if got.Type != "user.signup" || got.Source != "web-app" || got.Status != "pending" ||
		got.Payload["plan"] != "premium" || got.CreatedAt == "" || got.UpdatedAt == "" {
		return fmt.Errorf("GetInbox: got %+v, want the event main sent, pending, with its times", got)
	}

	req, err := http.NewRequest("POST", c.APIURL+"/inbox/"+id+"/ack", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("ack %s: %w", id, err)
	}
	defer resp.Body.Close()
	var ack InboxEvent
	if err := json.NewDecoder(resp.Body).Decode(&ack); err != nil {
		return fmt.Errorf("ack %s: %w", id, err)
	}
	if resp.StatusCode != http.StatusOK || ack.ID != id || ack.Status != "delivered" {
		return fmt.Errorf("ack %s: got %d %+v, want 200 delivered", id, resp.StatusCode, ack)
	}

	after, err := c.GetInbox()
	if err != nil {
		return fmt.Errorf("GetInbox after the ack: %w", err)
	}
	for _, e := range after {
		if e.ID == id {
			return fmt.Errorf("acknowledged event %s still in the inbox", id)
		}
	}
	return nil
}
