/* pull_rules_test.c - client families from real User-Agent strings, and exclusions. */
#include "registry/pull_rules.h"

#include <stdio.h>
#include <string.h>

#include "common/test.h"

static void test_families(void)
{
    static const struct {
        const char *ua;
        const char *family;
    } cases[] = {
            {"docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/6.1.0 os/linux arch/amd64 "
             "UpstreamClient(Docker-Client/24.0.7 \\(linux\\))",
             "docker"},
            {"docker/20.10.24+dfsg1 go/go1.19.8 git-commit/5d6db84 kernel/6.1 os/linux", "docker"},
            {"containerd/v1.6.20~ds1", "containerd"},
            {"containerd/1.7.13", "containerd"},
            {"kubelet/v1.29.0 (linux/amd64) kubernetes/3f7a50f", "containerd"},
            {"cri-o/1.28.1 go/go1.20", "containerd"},
            {"containers/5.24.2 (github.com/containers/image)", "podman"},
            {"skopeo/1.13.3", "podman"},
            {"Buildah/1.33", "podman"},
            {"go-containerregistry/v0.19.0", "crane"},
            {"crane/v0.19.0 go-containerregistry/v0.19.0", "crane"},
            {"Helm/3.14.0", "helm"},
            {"berth-pull/1", "berth"},
            {"curl/7.88.1", "other"},
            {"", "other"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_STR_EQ(pull_client_family(cases[i].ua), cases[i].family);
    CHECK_STR_EQ(pull_client_family(NULL), "other");
}

static void test_excluded(void)
{
    const char *users = "scanner, robot$library+trivy";
    const char *agents = "Trivy*, *clair*";

    CHECK(!pull_excluded(users, agents, "alice", "docker/24.0"));
    CHECK(pull_excluded(users, agents, "scanner", "docker/24.0"));
    CHECK(pull_excluded(users, agents, "robot$library+trivy", NULL));
    CHECK(!pull_excluded(users, agents, "robot$library+trivy2", NULL));
    CHECK(!pull_excluded(users, agents, "scan", NULL));
    CHECK(pull_excluded(users, agents, "", "Trivy/0.50"));
    CHECK(pull_excluded(users, agents, "", "quay clair-v4"));
    CHECK(!pull_excluded(users, agents, "", "containerd/1.7"));
    CHECK(pull_excluded("", "", "", "harbor-registry-client"));
    CHECK(!pull_excluded("", "", "", NULL));
    CHECK(!pull_excluded("", "", "alice", "curl/8"));
}

int main(void)
{
    TEST_RUN(test_families);
    TEST_RUN(test_excluded);
    return test_summary();
}
