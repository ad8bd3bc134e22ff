//go:build tools

// Keeps the snapshot controller's packages in go.sum for `go build` of its command.
package tools

import _ "github.com/kubernetes-csi/external-snapshotter/v8/cmd/snapshot-controller"
