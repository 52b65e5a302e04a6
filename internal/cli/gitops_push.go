package cli

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/version"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// gitOpsPush are the inputs of `gitops push`.
type gitOpsPush struct {
	rf                 renderFlags
	namespace          string
	repo, root, author string
	ageRecipients      []string
	target             gitops.Target
}

func newGitOpsPushCmd(s *streams) *cobra.Command {
	var o gitOpsPush
	cmd := &cobra.Command{
		Use:   "push [DIR] --repo URL|CHECKOUT --env ENV --image REPO@sha256:...",
		Short: "Commit the env's hydrated objects to a Git repository and push them",
		Long: `push renders the app in DIR (default .) for the environment --env and writes the objects
into the Git repository --repo at apps/APP/ENV/ (below --path): one file per object, a
kustomization.yaml listing them, provenance.json (source commit, plan hash, image and SBOM
digests, pyship version) and a README with the command that reproduces the folder. The same
input gives the same bytes; when they are already there, nothing is committed.

A URL (https://, ssh://, user@host:path) is cloned into memory, committed to and pushed, never
by force: when the branch moved meanwhile, the folder is written again on its new tip and
pushed again. A local checkout (a folder) must be clean; the commit is made there, not pushed.
Secrets are never written in plaintext: with --age-recipient they are SOPS-encrypted (Flux
decrypts them), else left out of the folder. An age identity where sops looks for one
($SOPS_AGE_KEY, $SOPS_AGE_KEY_FILE, ~/.config/sops/age/keys.txt) lets push see that an
encrypted Secret is unchanged and keep its bytes; without, each push re-encrypts it.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, dir, err := o.run(cmd.Context(), s, args, reproduceCommand(cmd))
			if err != nil {
				return err
			}
			return printPublish(s, res, dir)
		},
	}
	o.add(cmd.Flags())
	return cmd
}

func (o *gitOpsPush) add(fs *pflag.FlagSet) {
	o.rf.add(fs)
	fs.StringVarP(&o.namespace, "namespace", "n", "", "namespace of the objects (default [kubernetes] namespace, else \"default\")")
	addGitTargetFlags(fs, &o.repo, &o.root, &o.author, &o.target)
	fs.StringSliceVar(&o.ageRecipients, "age-recipient", nil, "write the app's Secret SOPS-encrypted to this age public key (age1...; repeatable); without, Secrets are left out")
}

// addGitTargetFlags adds the flags naming the repository, folder, branches and author.
func addGitTargetFlags(fs *pflag.FlagSet, repo, root, author *string, t *gitops.Target) {
	fs.StringVar(repo, "repo", "", "the Git repository: a URL (pushed) or the folder of a local checkout (committed, not pushed)")
	fs.StringVar(root, "path", "", "folder inside the repository holding apps/ (default its root)")
	fs.StringVar(&t.Base, "base", "", "branch to commit onto (default the repository's default branch)")
	fs.StringVar(&t.Branch, "branch", "", "put the change on its own new branch, for a pull request (named pyship/APP-ENV-VERSION-HASH unless given)")
	fs.Lookup("branch").NoOptDefVal = gitops.AutoBranch
	fs.StringVar(author, "author", "", "commit author \"Name <email>\" (default $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>, else pyship)")
}

func (o *gitOpsPush) run(ctx context.Context, s *streams, args []string, command string) (*gitops.Result, string, error) {
	if o.rf.env == "" {
		return nil, "", usageError{fmt.Errorf("no environment: pass --env NAME (an [env.NAME] of the spec); each env has its own folder")}
	}
	if _, err := gitops.EnvPath(o.root, "app", o.rf.env); err != nil {
		return nil, "", usageError{err}
	}
	if err := gitTarget(&o.target, o.repo, o.author, s.getenv); err != nil {
		return nil, "", err
	}
	p, err := o.rf.resolve(ctx, args, s.In)
	if err != nil {
		return nil, "", err
	}
	b, err := o.rf.bundle(s, p, o.namespace)
	if err != nil {
		return nil, "", err
	}
	prov, err := provenance(ctx, s, o.rf.opts.Image, o.rf.env, command)
	if err != nil {
		return nil, "", err
	}
	prov.App, prov.Version = p.Name, p.Version
	if prov.PlanHash, err = gitops.PlanHash(p); err != nil {
		return nil, "", err
	}
	if prov.SourceCommit, prov.SourceDirty, err = gitops.SourceCommit(p.Dir); err != nil {
		return nil, "", err
	}
	in := gitops.Input{Bundle: b, Provenance: prov, AgeRecipients: o.ageRecipients, Now: time.Now()}
	if in.AgeIdentities, err = gitops.AgeIdentities(o.target.Creds); err != nil {
		return nil, "", err
	}
	return gitops.PushEnv(ctx, o.target, o.root, in)
}

// provenance starts an env folder's provenance from the image: its digest and its SBOM
// referrer's (looked up in the registry; a registry that cannot say is warned about).
func provenance(ctx context.Context, s *streams, img, env, command string) (gitops.Provenance, error) {
	at := strings.LastIndex(img, "@sha256:")
	if at < 0 {
		return gitops.Provenance{}, usageError{fmt.Errorf("--image %q is not by digest: give REPO@sha256:... (`pyship build --push` prints it); Git must name exactly the bytes that run", img)}
	}
	sbom, err := image.SBOMDigest(ctx, img, nil)
	if err != nil {
		fmt.Fprintf(s.Err, "warning: no SBOM digest in the provenance: %v\n", err)
	}
	return gitops.Provenance{Env: env, Image: img, ImageDigest: img[at+1:], SBOMDigest: sbom, Pyship: version.String(), Command: command}, nil
}

// gitTarget fills the repository, author and credentials of a publish.
func gitTarget(t *gitops.Target, repo, author string, getenv func(string) string) error {
	if repo == "" {
		return usageError{fmt.Errorf("no repository: pass --repo URL (or the folder of a local checkout)")}
	}
	t.Repo = repo
	if author == "" {
		name, email := getenv("GIT_AUTHOR_NAME"), getenv("GIT_AUTHOR_EMAIL")
		if name == "" {
			name = "pyship"
		}
		if email == "" {
			email = "pyship@localhost"
		}
		t.Author = object.Signature{Name: name, Email: email}
	} else {
		a, err := mail.ParseAddress(author)
		if err != nil || a.Name == "" {
			return usageError{fmt.Errorf("--author %q: give \"Name <email>\"", author)}
		}
		t.Author = object.Signature{Name: a.Name, Email: a.Address}
	}
	t.Creds = gitops.Credentials{Home: getenv("HOME"), Getenv: getenv}
	return nil
}

// reproduceCommand is the command line that reproduces an env folder: the verb with the flags
// that shape the objects, the repository's URL without its password, no local paths.
func reproduceCommand(cmd *cobra.Command) string {
	parts := []string{cmd.CommandPath()}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "repo":
			parts = append(parts, "--repo", shellQuote(gitops.Redact(f.Value.String())))
		case "plan", "branch", "base", "author":
		default:
			vals := []string{f.Value.String()}
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				vals = sv.GetSlice()
			}
			for _, v := range vals {
				parts = append(parts, "--"+f.Name, shellQuote(v))
			}
		}
	})
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func printPublish(s *streams, res *gitops.Result, dir string) error {
	switch {
	case res.Commit == "":
		fmt.Fprintf(s.Err, "%s is up to date on %s: nothing to commit\n", dir, res.Branch)
	case res.Pushed:
		fmt.Fprintf(s.Err, "pushed %s to %s", dir, res.Branch)
		if res.Retries > 0 {
			fmt.Fprintf(s.Err, " (written again on the remote's new tip %d time(s))", res.Retries)
		}
		fmt.Fprintln(s.Err)
	default:
		fmt.Fprintf(s.Err, "committed %s on %s (not pushed: a local checkout)\n", dir, res.Branch)
	}
	_, err := fmt.Fprintf(s.Out, "%s %s\n", res.Branch, res.Commit)
	return err
}
