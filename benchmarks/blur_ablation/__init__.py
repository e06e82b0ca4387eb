"""The blur experiment, where a discriminator shapes what users get: where (if anywhere) should
D's Gaussian blur go (the seed's question, ``seed/README.md`` of the project notes)?

The seed's five settings (``none``, ``input``, ``input-fade``, ``layers``, ``output``; kernel 5,
sigma 1.0) in each place a discriminator takes part, then a sigma sweep for each place's winner:

- ``finetune``: the shipped base fine-tuned with a fresh discriminator (``zi2zi finetune
  --discriminator fresh``) on N = 200 glyphs of each evaluation font, 3 seeds (minutes a run);
- ``scratch``: the ``cpu-small`` preset from random weights on every glyph of one evaluation
  font, 2 seeds (half an hour a run);
- ``refiner``: the refiner's per-font fine-tuning with an adversarial term (the seed's PatchGAN on
  the refined crops) after one generator fine-tune per font and seed, 3 seeds (minutes a run), and
  ``off``, the same without any discriminator (the refiner's default): whether the term pays.

The report always covers every place from what is stored, whichever places an invocation trains.

Every run lives in ``--work`` (default ``ablation-work``) under place/font/setting/seed with its
``recipe.json`` and, once measured, ``results.json``; a run whose recipe is unchanged is reused, a
changed one redone, an unfinished fine-tune started over and an unfinished from-scratch run
resumed from its last checkpoint. The report (``benchmarks/reports/blur-ablation.md`` and its
pictures beside it) is built from the stored runs alone::

    python -m benchmarks.blur_ablation --dry-run          # the plan, what is stored, an estimate
    python -m benchmarks.blur_ablation                    # everything (hours; run again to go on)
    python -m benchmarks.blur_ablation --report-only      # the report from what is stored
    python -m benchmarks.blur_ablation --places finetune --fonts "AR PL UKai CN" --settings none input \\
        --seeds 0 --finetune-steps 20 --steps 20 --limit-chars 40 --sigmas --work /tmp/w --report /tmp/r.md

Modules: :mod:`~.settings` (what is compared), :mod:`~.runs` (recipes and training),
:mod:`~.measure`, :mod:`~.store`, :mod:`~.stats` (paired bootstrap), :mod:`~.analysis`
(comparisons, claims, winners), :mod:`~.report`.
"""
