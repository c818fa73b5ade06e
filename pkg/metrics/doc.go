// Package metrics is the one set of metrics Triggers emits, and the two ways
// it leaves the process:
//
//   - on AWS, CloudWatch Embedded Metric Format (EMF): one JSON line per
//     flush on stdout, which CloudWatch Logs turns into metrics in the
//     namespace TRIGGERS_METRICS_NAMESPACE (EMF);
//   - on the single binary, the Prometheus text exposition format 0.0.4 at
//     GET /metrics (Registry, Registry.Handler).
//
// Code that counts things takes a Recorder and does not know which of the
// two it feeds. Every metric is a Metric constant; its Name is the
// CloudWatch metric name the CDK stack's dashboard and alarms use (a test in
// cdk/ compares the two lists) and PromName the Prometheus one.
//
// Cardinality is fixed: no metric has dimensions or labels (EMF writes one
// empty dimension set), so nothing a client sends can create a time series.
package metrics
