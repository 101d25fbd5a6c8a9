//go:build gowapc && !tinygo

package main

// The waPC transport for the standard Go toolchain (the `go-wapc` guest flavour):
// built with `-tags gowapc -buildmode=c-shared` for wasip1, it is a reactor whose
// `__guest_call` is a //go:wasmexport, and whose host calls go through a small
// capabilities.WapcClient over //go:wasmimport of the `wapc` host functions. It runs
// the same handlers and the same SDK as the WASI-CLI guest; only the transport differs.

import (
	"encoding/json"
	"errors"
	"unsafe"

	"github.com/kubewarden/policy-sdk-go/pkg/capabilities"
)

//go:wasmimport wapc __guest_request
func guestRequest(opPtr, payloadPtr uint32)

//go:wasmimport wapc __guest_response
func guestResponse(ptr, length uint32)

//go:wasmimport wapc __guest_error
func guestError(ptr, length uint32)

//go:wasmimport wapc __host_call
func hostCall(bdPtr, bdLen, nsPtr, nsLen, opPtr, opLen, ptr, length uint32) uint32

//go:wasmimport wapc __host_response_len
func hostResponseLen() uint32

//go:wasmimport wapc __host_response
func hostResponse(ptr uint32)

//go:wasmimport wapc __host_error_len
func hostErrorLen() uint32

//go:wasmimport wapc __host_error
func hostError(ptr uint32)

// address is the linear-memory address of a byte slice's data (0 when empty: the host
// then reads nothing).
func address(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

// wapcClient implements the SDK's capabilities.WapcClient over the waPC imports.
type wapcClient struct{}

func (wapcClient) HostCall(binding, namespace, operation string, payload []byte) ([]byte, error) {
	bd, ns, op := []byte(binding), []byte(namespace), []byte(operation)
	ok := hostCall(address(bd), uint32(len(bd)), address(ns), uint32(len(ns)), address(op), uint32(len(op)),
		address(payload), uint32(len(payload))) == 1
	if !ok {
		message := make([]byte, hostErrorLen())
		hostError(address(message))
		return nil, errors.New(string(message))
	}
	response := make([]byte, hostResponseLen())
	hostResponse(address(response))
	return response, nil
}

//go:wasmexport __guest_call
func guestCall(opLen, payloadLen int32) int32 {
	op := make([]byte, opLen)
	payload := make([]byte, payloadLen)
	guestRequest(address(op), address(payload))
	answer, err := dispatch(string(op), payload)
	if err != nil {
		message := []byte(err.Error())
		guestError(address(message), uint32(len(message)))
		return 0
	}
	guestResponse(address(answer), uint32(len(answer)))
	return 1
}

func dispatch(op string, payload []byte) ([]byte, error) {
	if op == "describe" {
		return json.Marshal(describe())
	}
	host := capabilities.Host{Client: wapcClient{}}
	res, err := serve(&host, op, payload)
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

// A c-shared module's main is never called; the runtime starts in _initialize.
func main() {}
