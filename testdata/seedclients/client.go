// The seed developer guide's Go client ("Code Examples" > "Go"), run against
// a real `triggers serve` by cmd/triggers/seedclients_test.go, with its
// checks in client_check.go:
//
//	API_URL=http://127.0.0.1:8080 API_KEY=trg_... go run client.go client_check.go
//
// From the marker line on, the code is the guide's, token for token, except:
// the base URL and the API key come from API_URL and API_KEY (os.Getenv, so
// "os" is imported) instead of the guide's placeholder strings; the unused
// "io/ioutil" import is dropped, without which the printed code does not
// compile; and gofmt indents with tabs where the guide has four spaces.
// docs/compatibility.md lists every change and the test checks it.

// ---- seed code begins ----
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
)

type ZapierTriggersClient struct {
	APIURL string
	APIKey string
	Token  string
}

type Event struct {
	Type    string                 `json:"type"`
	Source  string                 `json:"source"`
	Payload map[string]interface{} `json:"payload"`
}

type EventResponse struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Timestamp string `json:"timestamp"`
}

type InboxEvent struct {
	ID        string                 `json:"id"`
	Type      string                 `json:"type"`
	Source    string                 `json:"source"`
	Payload   map[string]interface{} `json:"payload"`
	Status    string                 `json:"status"`
	CreatedAt string                 `json:"created_at"`
	UpdatedAt string                 `json:"updated_at"`
}

func (c *ZapierTriggersClient) Authenticate() error {
	data := url.Values{}
	data.Set("username", "api")
	data.Set("password", c.APIKey)

	resp, err := http.PostForm(c.APIURL+"/token", data)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	var result map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&result); err != nil {
		return err
	}

	c.Token = result["access_token"]
	return nil
}

func (c *ZapierTriggersClient) CreateEvent(eventType, source string, payload map[string]interface{}) (*EventResponse, error) {
	if c.Token == "" {
		if err := c.Authenticate(); err != nil {
			return nil, err
		}
	}

	event := Event{
		Type:    eventType,
		Source:  source,
		Payload: payload,
	}

	jsonData, err := json.Marshal(event)
	if err != nil {
		return nil, err
	}

	req, err := http.NewRequest("POST", c.APIURL+"/events", bytes.NewBuffer(jsonData))
	if err != nil {
		return nil, err
	}

	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")

	client := &http.Client{}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()

	var eventResponse EventResponse
	if err := json.NewDecoder(resp.Body).Decode(&eventResponse); err != nil {
		return nil, err
	}

	return &eventResponse, nil
}

func (c *ZapierTriggersClient) GetInbox() ([]InboxEvent, error) {
	if c.Token == "" {
		if err := c.Authenticate(); err != nil {
			return nil, err
		}
	}

	req, err := http.NewRequest("GET", c.APIURL+"/inbox", nil)
	if err != nil {
		return nil, err
	}

	req.Header.Set("Authorization", "Bearer "+c.Token)

	client := &http.Client{}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()

	var events []InboxEvent
	if err := json.NewDecoder(resp.Body).Decode(&events); err != nil {
		return nil, err
	}

	return events, nil
}

func main() {
	client := &ZapierTriggersClient{
		APIURL: os.Getenv("API_URL"),
		APIKey: os.Getenv("API_KEY"),
	}

	// Create event
	payload := map[string]interface{}{
		"user_id": "12345",
		"email":   "user@example.com",
		"plan":    "premium",
	}

	result, err := client.CreateEvent("user.signup", "web-app", payload)
	if err != nil {
		panic(err)
	}
	fmt.Printf("Event created: %s\n", result.ID)

	// Get inbox
	events, err := client.GetInbox()
	if err != nil {
		panic(err)
	}
	fmt.Printf("Pending events: %d\n", len(events))
}
