package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/secrets"
	"github.com/triggershq/triggers/pkg/webhook"
)

// openSecretKeyring reads credentials from the AWS deployment's Secrets
// Manager secret (the same JSON as credentials.json), cached like the
// Lambda functions cache it. Keys are added with `triggers keys hash`.
func openSecretKeyring(ctx context.Context, c serveConfig, logger *slog.Logger) (auth.Keyring, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	ring, err := secrets.New(secrets.NewClient(awsCfg), c.secretID, secrets.Options{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", c.secretID, err)
	}
	if _, err := ring.Credentials(ctx); err != nil {
		return nil, fmt.Errorf("secret %s: %w", c.secretID, err)
	}
	return ring, nil
}

// newTargetChecker is the SSRF check for subscription targets when no
// delivery sender runs in this process.
func newTargetChecker(c serveConfig) *webhook.Sender {
	return webhook.NewSender(webhook.Options{AllowPrivateNetworks: c.allowPrivateWebhooks})
}
