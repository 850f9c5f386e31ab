"""featurepub as a GitHub Action (action.yml at the repository root runs `python -m featurepub.cli.github_action`).

inputs: the INPUT_* variables and the work they ask for; process: running `featurepub`;
findings: annotations (validation problems with their line, unbumped versions, failure causes);
outcome and summary: the step outputs and the step summary; git_tags: the repository tags.
"""
