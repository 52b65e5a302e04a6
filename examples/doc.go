// Package examples holds runnable example Python services (stdlib, flask, fastapi, django and
// a worker) that pyship's tests and documentation use; the Go package itself is empty.
package examples
