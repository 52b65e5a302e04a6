package backup

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// awsProfile holds the settings of one profile of the AWS config file that a backup uses.
type awsProfile struct {
	Region, EndpointURL string
}

// awsConfigFile is $AWS_CONFIG_FILE, else ~/.aws/config ("" when there is no home).
func awsConfigFile(getenv func(string) string) string {
	if f := getenv("AWS_CONFIG_FILE"); f != "" {
		return f
	}
	home := getenv("HOME")
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".aws", "config")
}

// readAWSProfile reads region and endpoint_url of profile (section [default] or
// [profile NAME]) from the AWS config file; a missing file or profile gives nothing. An
// endpoint_url under "s3 =" in the profile, or in the [services NAME] section the profile
// names, wins over the profile's own.
func readAWSProfile(file, profile string) (awsProfile, error) {
	var out awsProfile
	if file == "" {
		return out, nil
	}
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("reading the AWS config file: %w", err)
	}
	defer f.Close()
	want := "profile " + profile
	if profile == "default" {
		want = "default"
	}
	var section, sub, services, s3Endpoint string
	servicesS3 := map[string]string{} // services section → s3 endpoint_url
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return out, fmt.Errorf("%s:%d: a section header must end with ]", file, n)
			}
			section, sub = strings.Join(strings.Fields(line[1:len(line)-1]), " "), ""
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return out, fmt.Errorf("%s:%d: expected key = value", file, n)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		indented := raw != "" && (raw[0] == ' ' || raw[0] == '\t')
		if !indented {
			sub = ""
			if v == "" {
				sub = k // a nested block: "s3 =" then indented keys
				continue
			}
		}
		switch {
		case section == want && sub == "" && k == "region":
			out.Region = v
		case section == want && sub == "" && k == "endpoint_url":
			out.EndpointURL = v
		case section == want && sub == "" && k == "services":
			services = v
		case section == want && sub == "s3" && k == "endpoint_url":
			s3Endpoint = v
		case strings.HasPrefix(section, "services ") && sub == "s3" && k == "endpoint_url":
			servicesS3[strings.TrimPrefix(section, "services ")] = v
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("reading %s: %w", file, err)
	}
	if e := servicesS3[services]; services != "" && e != "" {
		out.EndpointURL = e
	}
	if s3Endpoint != "" {
		out.EndpointURL = s3Endpoint
	}
	return out, nil
}

// endpointAndRegion decides where a store connects: the config, then the environment
// ($AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, $AWS_REGION, $AWS_DEFAULT_REGION), then the AWS
// config file's profile (cfg.Profile, $AWS_PROFILE, else default), then AWS's defaults.
func endpointAndRegion(cfg Config, getenv func(string) string) (endpoint, region string, err error) {
	endpoint, region = cfg.Endpoint, cfg.Region
	for _, v := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"} {
		if endpoint == "" {
			endpoint = getenv(v)
		}
	}
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if region == "" {
			region = getenv(v)
		}
	}
	if endpoint == "" || region == "" {
		profile := cfg.Profile
		if profile == "" {
			profile = getenv("AWS_PROFILE")
		}
		if profile == "" {
			profile = "default"
		}
		p, err := readAWSProfile(awsConfigFile(getenv), profile)
		if err != nil {
			return "", "", err
		}
		if endpoint == "" {
			endpoint = p.EndpointURL
		}
		if region == "" {
			region = p.Region
		}
	}
	if endpoint == "" {
		endpoint = "https://s3.amazonaws.com"
	}
	if region == "" {
		region = "us-east-1"
	}
	return endpoint, region, nil
}
