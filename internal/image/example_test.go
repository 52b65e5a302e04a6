package image_test

import (
	"context"
	"fmt"
	"log"

	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/plan"
)

// Build an app's image and push it with its SBOM; the reference printed carries the digest.
func ExampleBuild() {
	ctx := context.Background()
	p, err := plan.Resolve(ctx, "./myapp", plan.Options{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := image.Build(ctx, p, image.Options{Progress: func(e image.Event) { log.Println(e.Step, e.Message) }})
	if err != nil {
		log.Fatal(err)
	}
	ref, err := image.Push(ctx, res, "ghcr.io/acme/"+res.Name, image.PushOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ref)
}
