"""verl backend: GRPO through `verl.trainer.main_ppo` (Hydra overrides), SFT through verl or TRL."""
