"""Publishing: plan what to push (pure), then run the plan against a target and report."""
