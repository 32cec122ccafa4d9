/* config.c - defaults, validation and lookups of struct orch_config. */
#include "orch/config.h"

#include "orch/err.h"

#include <stdlib.h>
#include <string.h>

void orch_config_init(struct orch_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->target = ORCH_TARGET_SPECIFIC;
    cfg->schedule_time_ms = -1;
    cfg->schedule_finish_time_ms = -1;
    cfg->retry_interval = -1;
    cfg->retry_count = -1;
    cfg->timeout_minutes = -1;
    cfg->max_per_minute = -1;
    cfg->overwrite_mode = -1;
    cfg->progress = true;
    cfg->qps = 20.0;
    cfg->max_in_flight = 64;
    cfg->max_attempts = 6;
    cfg->chunk_size = ORCH_MAX_CHUNK;
    cfg->signature_version = 3;
    cfg->request_timeout_ms = 30000;
    cfg->fatal_streak = 3;
}

void orch_config_cleanup(struct orch_config *cfg)
{
    size_t i = 0;

    if (cfg == NULL)
        return;
    free(cfg->inventory_path);
    free(cfg->firmware_id);
    free(cfg->product_key);
    for (i = 0; i < cfg->n_fw_map; i++) {
        free(cfg->fw_map[i].product_key);
        free(cfg->fw_map[i].firmware_id);
    }
    free(cfg->fw_map);
    for (i = 0; i < cfg->n_src_versions; i++)
        free(cfg->src_versions[i]);
    free(cfg->gray_percent);
    free(cfg->endpoint);
    free(cfg->region);
    free(cfg->iot_instance_id);
    free(cfg->ca_bundle);
    free(cfg->profile);
    free(cfg->report_path);
    memset(cfg, 0, sizeof(*cfg));
}

const char *orch_config_firmware_for(const struct orch_config *cfg,
                                     const char *product_key)
{
    size_t i = 0;

    for (i = 0; i < cfg->n_fw_map && product_key; i++) {
        if (strcmp(cfg->fw_map[i].product_key, product_key) == 0)
            return cfg->fw_map[i].firmware_id;
    }
    return cfg->firmware_id;
}
