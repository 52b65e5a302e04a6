package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Store stores backups in one bucket of an S3-compatible service.
type S3Store struct {
	core        minio.Core
	bucket      string
	endpoint    string
	partSize    int
	concurrency int
}

// NewS3Store connects (lazily) to the bucket named by cfg.Destination.
func NewS3Store(cfg Config) (*S3Store, error) {
	loc, err := ParseDestination(cfg.Destination)
	if err != nil {
		return nil, err
	}
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	endpoint, region, err := endpointAndRegion(cfg, getenv)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("backup endpoint %q: want http(s)://host[:port]", endpoint)
	}
	var creds *credentials.Credentials
	if cfg.Credentials.AccessKey != "" {
		creds = credentials.NewStaticV4(cfg.Credentials.AccessKey, cfg.Credentials.SecretKey, cfg.Credentials.SessionToken)
	} else {
		creds = credentials.NewChainCredentials(envCredentials(cfg.Profile, getenv))
	}
	c, err := minio.NewCore(u.Host, &minio.Options{
		Creds:        creds,
		Secure:       u.Scheme == "https",
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   3,
	})
	if err != nil {
		return nil, fmt.Errorf("backup endpoint %s: %w", endpoint, err)
	}
	ps := cfg.PartSize
	if ps == 0 {
		ps = DefaultPartSize
	}
	cc := cfg.Concurrency
	if cc == 0 {
		cc = 2
	}
	return &S3Store{core: *c, bucket: loc.Bucket, endpoint: endpoint, partSize: int(ps), concurrency: cc}, nil
}

// envCredentials are the providers of S3 keys when the config names none, read through getenv
// as minio's EnvAWS, FileAWSCredentials and EnvMinio read os.Getenv: $AWS_ACCESS_KEY_ID (or
// $AWS_ACCESS_KEY) with its secret and session token; the profile (profile, else $AWS_PROFILE,
// else default) of the shared credentials file ($AWS_SHARED_CREDENTIALS_FILE or
// ~/.aws/credentials), then of the config file; $MINIO_ROOT_USER or $MINIO_ACCESS_KEY.
func envCredentials(profile string, getenv func(string) string) []credentials.Provider {
	static := func(id, secret, token string) credentials.Provider {
		return &credentials.Static{Value: credentials.Value{AccessKeyID: id, SecretAccessKey: secret, SessionToken: token, SignerType: credentials.SignatureV4}}
	}
	ps := []credentials.Provider{static(firstEnv(getenv, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"),
		firstEnv(getenv, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"), getenv("AWS_SESSION_TOKEN"))}
	if profile == "" {
		profile = firstEnv(getenv, "AWS_PROFILE")
	}
	if profile == "" {
		profile = "default"
	}
	credsFile := getenv("AWS_SHARED_CREDENTIALS_FILE")
	if home := getenv("HOME"); credsFile == "" && home != "" {
		credsFile = filepath.Join(home, ".aws", "credentials")
	}
	for _, f := range []string{credsFile, awsConfigFile(getenv)} {
		if f != "" { // an empty Filename would make minio read the process's environment
			ps = append(ps, &credentials.FileAWSCredentials{Filename: f, Profile: profile})
		}
	}
	if id := getenv("MINIO_ROOT_USER"); id != "" {
		ps = append(ps, static(id, getenv("MINIO_ROOT_PASSWORD"), ""))
	} else {
		ps = append(ps, static(getenv("MINIO_ACCESS_KEY"), getenv("MINIO_SECRET_KEY"), ""))
	}
	return ps
}

// firstEnv is the first of the variables vars that is set.
func firstEnv(getenv func(string) string, vars ...string) string {
	for _, v := range vars {
		if s := getenv(v); s != "" {
			return s
		}
	}
	return ""
}

// Check implements Store.
func (s *S3Store) Check(ctx context.Context) error {
	ok, err := s.core.BucketExists(ctx, s.bucket)
	if err != nil {
		return s.wrap(err, "checking bucket", "")
	}
	if !ok {
		return fmt.Errorf("bucket %q at %s: %w: create it or fix the backup destination", s.bucket, s.endpoint, ErrBucketMissing)
	}
	return nil
}

// Put implements Store.
func (s *S3Store) Put(ctx context.Context, key string, data []byte) error {
	_, err := s.core.Client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream"})
	return s.wrap(err, "writing", key)
}

// Open implements Store.
func (s *S3Store) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	rc, info, _, err := s.core.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, s.wrap(err, "reading", key)
	}
	return &bodyReader{rc: rc, s: s, key: key}, info.Size, nil
}

// bodyReader marks read errors of an object's body as the storage's, not the data's.
type bodyReader struct {
	rc  io.ReadCloser
	s   *S3Store
	key string
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("reading s3://%s/%s at %s: %w: %v", b.s.bucket, b.key, b.s.endpoint, ErrUnreachable, err)
	}
	return n, err
}

func (b *bodyReader) Close() error { return b.rc.Close() }

// List implements Store.
func (s *S3Store) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	for o := range s.core.Client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, s.wrap(o.Err, "listing", prefix)
		}
		out = append(out, ObjectInfo{Key: o.Key, Size: o.Size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete implements Store.
func (s *S3Store) Delete(ctx context.Context, key string) error {
	err := s.core.Client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return nil
	}
	return s.wrap(err, "deleting", key)
}

// AbortUploads implements Store.
func (s *S3Store) AbortUploads(ctx context.Context, prefix string, before time.Time) ([]string, error) {
	var aborted []string
	for u := range s.core.Client.ListIncompleteUploads(ctx, s.bucket, prefix, true) {
		if u.Err != nil {
			return aborted, s.wrap(u.Err, "listing incomplete uploads under", prefix)
		}
		if !u.Initiated.IsZero() && !u.Initiated.Before(before) {
			continue
		}
		if err := s.core.AbortMultipartUpload(ctx, s.bucket, u.Key, u.UploadID); err != nil {
			return aborted, s.wrap(err, "aborting the incomplete upload of", u.Key)
		}
		aborted = append(aborted, u.Key)
	}
	return aborted, nil
}

// wrap turns an S3 error into one that says what failed, where, and how to fix it.
func (s *S3Store) wrap(err error, doing, key string) error {
	if err == nil {
		return nil
	}
	where := fmt.Sprintf("s3://%s/%s at %s", s.bucket, key, s.endpoint)
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "NoSuchBucket":
		return fmt.Errorf("%s %s: %w: create bucket %q or fix the backup destination", doing, where, ErrBucketMissing, s.bucket)
	case "NoSuchKey", "NotFound":
		return fmt.Errorf("%s %s: %w", doing, where, ErrNotFound)
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken":
		return fmt.Errorf("%s %s: %w (%s): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the AWS credentials file or the [backup] credentials", doing, where, ErrCredentials, resp.Code)
	}
	if resp.StatusCode == 404 && key != "" {
		return fmt.Errorf("%s %s: %w", doing, where, ErrNotFound)
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) || strings.Contains(err.Error(), "connection refused") || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s %s: %w: %v; is the endpoint right and the service up?", doing, where, ErrUnreachable, err)
	}
	return fmt.Errorf("%s %s: %w", doing, where, err)
}
