//go:build !tinygo && !gowapc

// Command guest-go is the kwconform guest for the Kubewarden Go SDK.
//
// Built with the standard Go toolchain (GOOS=wasip1 GOARCH=wasm) it is a WASI command
// in the Kubewarden WASI-CLI style (docs/guest-protocol.md): argv[1] names the
// operation, stdin carries one request per line, stdout gets one result per line, and
// the SDK's own host client (capabilities.NewHost) makes its host calls through
// `host.call`. This file is that transport; handlers.go calls the SDK, view.go projects
// its results, and main_tinygo.go is the waPC transport a TinyGo build uses instead.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/kubewarden/policy-sdk-go/pkg/capabilities"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: guest-go OPERATION (describe or one of the operations it describes)")
	}
	op := os.Args[1]
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()

	if op == "describe" {
		writeLine(out, describe())
		return
	}
	if _, ok := handlers[op]; !ok {
		fail("unknown operation: " + op)
	}

	// The whole batch is read before the first host call: the host replaces stdin
	// with each host-call response and drops whatever was left unread.
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("cannot read requests: " + err.Error())
	}
	host := capabilities.NewHost()
	for _, line := range bytes.Split(input, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		res, err := serve(&host, op, line)
		if err != nil {
			fail(err.Error())
		}
		writeLine(out, res)
		// Flushed per request: the host attributes host calls to the request whose
		// result line has not been written yet.
		out.Flush()
	}
}

func writeLine(out *bufio.Writer, v any) {
	line, err := json.Marshal(v)
	if err != nil {
		fail("cannot encode result: " + err.Error())
	}
	out.Write(line)
	out.WriteByte('\n')
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(3)
}
