// Command cdk synthesizes the Triggers CloudFormation stack. Run it through
// the CDK CLI (`npx aws-cdk@VERSION synth|deploy|destroy`, see
// docs/deploy.md) or directly: `CDK_OUTDIR=cdk.out go run .` writes
// cdk.out/<stackName>.template.json without AWS credentials.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/triggershq/triggers/cdk/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cdk:", err)
		os.Exit(1)
	}
}

func run() error {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	cfg, err := stack.FromContext(app.Node())
	if err != nil {
		return err
	}
	if _, err := stack.New(app, stack.Props{Config: cfg}); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}
