package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// SPDXMediaType is the media type of pyship's SBOM documents and of the referrer artifact.
const SPDXMediaType = "application/spdx+json"

type spdxDoc struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreation       `json:"creationInfo"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxCreation struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	Name             string        `json:"name"`
	SPDXID           string        `json:"SPDXID"`
	VersionInfo      string        `json:"versionInfo,omitempty"`
	DownloadLocation string        `json:"downloadLocation"`
	FilesAnalyzed    bool          `json:"filesAnalyzed"`
	LicenseConcluded string        `json:"licenseConcluded"`
	LicenseDeclared  string        `json:"licenseDeclared"`
	Comment          string        `json:"comment,omitempty"`
	ExternalRefs     []spdxExtRef  `json:"externalRefs,omitempty"`
	Supplier         string        `json:"supplier,omitempty"`
	PrimaryPurpose   string        `json:"primaryPackagePurpose,omitempty"`
	Checksums        []interface{} `json:"checksums,omitempty"`
}

type spdxExtRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

var (
	spdxIDUnsafe = regexp.MustCompile(`[^A-Za-z0-9.-]+`)
	nameRuns     = regexp.MustCompile(`[-_.]+`)
)

// SPDX writes an SPDX 2.3 JSON document describing the image digest and the Python packages in it.
func SPDX(appName string, digest v1.Hash, pkgs []Package, created time.Time, tool string) ([]byte, error) {
	if tool == "" {
		tool = "dev"
	}
	root := "SPDXRef-Image"
	doc := spdxDoc{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT",
		Name:              appName + "@" + digest.String(),
		DocumentNamespace: "https://pyship.dev/spdx/" + appName + "/" + digest.Hex,
		CreationInfo:      spdxCreation{Created: created.UTC().Format(time.RFC3339), Creators: []string{"Tool: pyship-" + tool}},
		Packages: []spdxPackage{{
			Name: appName, SPDXID: root, VersionInfo: digest.String(), DownloadLocation: "NOASSERTION",
			LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION", PrimaryPurpose: "CONTAINER",
		}},
		Relationships: []spdxRelationship{{Element: "SPDXRef-DOCUMENT", Type: "DESCRIBES", Related: root}},
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		norm := normalizeName(p.Name)
		id := "SPDXRef-Package-pypi-" + spdxIDUnsafe.ReplaceAllString(norm+"-"+p.Version, "-")
		if seen[id] {
			continue
		}
		seen[id] = true
		sp := spdxPackage{
			Name: p.Name, SPDXID: id, VersionInfo: p.Version, DownloadLocation: "NOASSERTION",
			LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION", PrimaryPurpose: "LIBRARY",
			ExternalRefs: []spdxExtRef{{Category: "PACKAGE-MANAGER", Type: "purl", Locator: "pkg:pypi/" + norm + "@" + p.Version}},
		}
		if p.License != "" && p.License != "UNKNOWN" {
			sp.Comment = "License field of the package metadata: " + p.License
		}
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, spdxRelationship{Element: root, Type: "CONTAINS", Related: id})
	}
	return json.MarshalIndent(doc, "", "  ")
}

// normalizeName is the PEP 503 form of a project name.
func normalizeName(n string) string {
	return strings.ToLower(nameRuns.ReplaceAllString(n, "-"))
}

// sbomArtifact is the OCI artifact carrying sbom that refers to the image subject.
func sbomArtifact(sbom []byte, subject v1.Image) (v1.Image, error) {
	d, err := subject.Digest()
	if err != nil {
		return nil, err
	}
	size, err := subject.Size()
	if err != nil {
		return nil, err
	}
	mt, err := subject.MediaType()
	if err != nil {
		return nil, err
	}
	layer := static.NewLayer(sbom, SPDXMediaType)
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{Layer: layer, MediaType: SPDXMediaType})
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(img, SPDXMediaType)
	sum := sha256.Sum256(sbom)
	img = mutate.Annotations(img, map[string]string{"org.opencontainers.image.description": "SPDX SBOM sha256:" + hex.EncodeToString(sum[:])}).(v1.Image)
	return mutate.Subject(img, v1.Descriptor{MediaType: mt, Digest: d, Size: size}).(v1.Image), nil
}

// SBOMOf reads the Python packages of any image (every *.dist-info in its filesystem) and
// writes its SPDX document.
func SBOMOf(img v1.Image, appName, tool string) ([]byte, error) {
	info, err := inspect(img)
	if err != nil && info.Python == "" && len(info.Packages) == 0 {
		return nil, err
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	if appName == "" {
		appName = cf.Config.Labels["org.opencontainers.image.title"]
	}
	if appName == "" {
		appName = "image"
	}
	return SPDX(appName, d, info.Packages, cf.Created.Time, tool)
}
