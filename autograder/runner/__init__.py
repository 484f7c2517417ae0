"""The grader's side of the sandbox: it starts and limits the workers, talks to them, and holds the
reference's answers. The sandboxed side (what runs student code) is ``autograder/worker/``, which
imports nothing of this package."""
