"""Tools that read a trained model from the inside (Part IV).

`residual` (chapter 8): norms, similarities, contributions and effective rank of the residual stream, a logit lens.
`attention` (chapter 9): entropy, head specialisation, previous-token / first-token / induction scores.
`circuits` (chapter 9): QK and OV circuits as `FactoredMatrix`es, path decomposition, composition scores.
`interventions` (chapter 10): ablation of components and activation patching, with the recovery ratio.
"""
