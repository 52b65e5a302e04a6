package backup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testAWSConfig = `# ~/.aws/config
[default]
region = eu-west-1

[profile minio]
region = eu-central-1
endpoint_url = http://127.0.0.1:9999

[profile nested]
region=ap-south-1
s3 =
  endpoint_url = http://s3.nested.example:8080
  addressing_style = path
endpoint_url = http://other.example

[profile svc]
services = local-s3

[services local-s3]
s3 =
  endpoint_url = http://svc.example:7070
`

func TestEndpointAndRegion(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(file, []byte(testAWSConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		cfg          Config
		env          map[string]string
		wantEndpoint string
		wantRegion   string
	}{
		{"defaults without a file", Config{}, map[string]string{"AWS_CONFIG_FILE": file + ".missing"}, "https://s3.amazonaws.com", "us-east-1"},
		{"default profile", Config{}, nil, "https://s3.amazonaws.com", "eu-west-1"},
		{"profile from the config", Config{Profile: "minio"}, nil, "http://127.0.0.1:9999", "eu-central-1"},
		{"profile from AWS_PROFILE", Config{}, map[string]string{"AWS_PROFILE": "minio"}, "http://127.0.0.1:9999", "eu-central-1"},
		{"an s3 block wins over the profile's endpoint_url", Config{Profile: "nested"}, nil, "http://s3.nested.example:8080", "ap-south-1"},
		{"a services section", Config{Profile: "svc"}, nil, "http://svc.example:7070", "us-east-1"},
		{"the environment wins over the file", Config{Profile: "minio"}, map[string]string{"AWS_ENDPOINT_URL": "http://env:1", "AWS_DEFAULT_REGION": "sa-east-1"}, "http://env:1", "sa-east-1"},
		{"the s3 variable wins over the general one", Config{}, map[string]string{"AWS_ENDPOINT_URL": "http://env:1", "AWS_ENDPOINT_URL_S3": "http://s3env:2"}, "http://s3env:2", "eu-west-1"},
		{"the config wins over everything", Config{Endpoint: "http://spec:3", Region: "spec-1", Profile: "minio"}, map[string]string{"AWS_ENDPOINT_URL": "http://env:1", "AWS_REGION": "env-1"}, "http://spec:3", "spec-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"AWS_CONFIG_FILE": file}
			for k, v := range tt.env {
				env[k] = v
			}
			ep, region, err := endpointAndRegion(tt.cfg, func(k string) string { return env[k] })
			if err != nil || ep != tt.wantEndpoint || region != tt.wantRegion {
				t.Errorf("got %q %q %v, want %q %q", ep, region, err, tt.wantEndpoint, tt.wantRegion)
			}
		})
	}
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("[default\nregion = x\n"), 0o600)
	if _, _, err := endpointAndRegion(Config{}, func(k string) string { return map[string]string{"AWS_CONFIG_FILE": bad}[k] }); err == nil || !strings.Contains(err.Error(), bad+":1:") {
		t.Errorf("a broken config file: %v; want an error naming its line", err)
	}
}

// TestEndpointFromTheAWSConfigFile reaches the test S3 through endpoint_url of ~/.aws/config,
// with the keys of ~/.aws/credentials, HOME given by Config.Getenv.
func TestEndpointFromTheAWSConfigFile(t *testing.T) {
	t.Parallel()
	s := startS3(t)
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".aws", "config"), []byte("[default]\nendpoint_url = "+s.Endpoint+"\nregion = us-east-1\n"), 0o600)
	writeFile(t, filepath.Join(home, ".aws", "credentials"), []byte("[default]\naws_access_key_id = "+s.Access+"\naws_secret_access_key = "+s.Secret+"\n"), 0o600)
	cfg, _ := testConfig(t, s)
	cfg.Endpoint, cfg.Credentials = "", Credentials{}
	// The environment the store reads is HOME alone: no AWS_* variable names another endpoint
	// or other keys; the keys come from ~/.aws/credentials.
	cfg.Getenv = func(k string) string { return map[string]string{"HOME": home}[k] }
	st, err := NewS3Store(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(testCtx(t, 30*time.Second)); err != nil {
		t.Fatalf("checking the bucket through the config file's endpoint: %v", err)
	}
}
