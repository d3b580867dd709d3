-- mart_model_quality: offline quality of every registered model version, one row per version
-- and evaluated model (the LightGBM ranker and each baseline), from model_registry.metrics.
--   version: the registry version
--   created_at: when it was trained (naive UTC)
--   status: candidate, published, archived or rejected
--   published_at: when it was last published (NULL if never)
--   model: ranker or a baseline name (popularity, als, ...)
--   is_ranker: model = 'ranker'
--   is_served: the model the evaluation chose for the feed to serve
--     (see ranking/evaluation/selection.py)
--   ndcg_at_10: NDCG@10 on the temporal holdout
--   recall_at_10: Recall@10 on the temporal holdout
--   ranker_ndcg_at_10: the ranker's NDCG@10 for the same version
--   lift_vs_model: ranker_ndcg_at_10 / ndcg_at_10 - 1 (0 for the ranker itself)
--   gate_passed: the publish gate's verdict for the version (NULL before evaluation)
with

source as (
    select
        version, created_at, status, published_at, metrics::json as metrics
    from model_registry
),

models as (
    select *, unnest(coalesce(json_keys(metrics), []::varchar[])) as model
    from source
),

scored as (
    select
        version,
        created_at,
        status,
        published_at,
        model,
        model = 'ranker' as is_ranker,
        model = coalesce(json_extract_string(metrics, '$.selection.served'), 'ranker')
            as is_served,
        try_cast(json_extract_string(metrics, '$."' || model || '"."ndcg@10"') as double) as ndcg_at_10,
        try_cast(json_extract_string(metrics, '$."' || model || '"."recall@10"') as double)
            as recall_at_10,
        try_cast(json_extract_string(metrics, '$.gate.passed') as boolean) as gate_passed
    from models
    where model not in ('gate', 'selection')
),

with_ranker as (
    select
        *,
        max(ndcg_at_10) filter (where is_ranker) over (partition by version)
            as ranker_ndcg_at_10
    from scored
    where ndcg_at_10 is not null
),

final as (
    select
        version, created_at, status, published_at, model, is_ranker, is_served, ndcg_at_10,
        recall_at_10,
        ranker_ndcg_at_10,
        ranker_ndcg_at_10 / nullif(ndcg_at_10, 0) - 1 as lift_vs_model,
        gate_passed
    from with_ranker
)

select * from final order by created_at, version, is_ranker desc, model
