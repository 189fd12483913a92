// repository.js - a repository's artifacts: digest, tags (each with its pulls, copy and delete),
// size, platforms of an index, push and pull times, pull count, pull commands to copy; the
// repository's pulls over time, and one artifact's (its "Pull history" button).
import { api } from './api.js';
import { h, clear, fmtBytes, timeEl, pagedTable, confirmDialog, notify, copyButton, shortDigest } from './dom.js';
import { perms } from './project.js';
import { pullsPanel } from './pulls.js';

function platforms(a) {
    const refs = a.references || [];
    const list = refs.filter((r) => r.platform).map((r) => `${r.platform.os}/${r.platform.architecture}${r.platform.variant ? `/${r.platform.variant}` : ''}`);
    if (list.length) return list.join(', ');
    const x = a.extra_attrs || {};
    if (x.os && x.architecture) return `${x.os}/${x.architecture}`;
    return '';
}

export async function render(main, ctx, project, repo) {
    const p = await api.project(project);
    const can = perms(ctx, p);
    const full = `${project}/${repo}`;
    ctx.setTitle(full);
    let info = null;
    try {
        info = await api.repository(project, repo);
    } catch (e) {
        if (e.status !== 404) throw e;
    }
    const ref = `${ctx.host}/${full}`;
    const table = pagedTable({
        caption: `Artifacts of ${full}`,
        searchLabel: 'Search artifacts by tag',
        sort: '-push_time',
        empty: 'No artifacts.',
        rowKey: (a) => a.digest,
        load: (o) => api.artifacts(project, repo, o),
        cols: [
            {
                label: 'Digest',
                render: (a) => h('span', { class: 'digest' }, h('code', { title: a.digest }, shortDigest(a.digest)),
                    copyButton(`docker pull ${ref}@${a.digest}`, `Copy pull command for ${shortDigest(a.digest)}`, { class: 'btn small copy-digest' })),
            },
            {
                label: 'Tags',
                render: (a) => {
                    const tags = a.tags || [];
                    if (!tags.length) return h('span', { class: 'muted' }, 'untagged');
                    return h('ul', { class: 'tags' }, tags.map((t) => h('li', { class: 'tag', dataset: { tag: t.name } },
                        h('span', { class: 'tagname' }, t.name),
                        h('span', { class: 'muted tagpulls', title: `last pulled ${t.pull_time || 'never'}` }, `${t.pull_count} ${t.pull_count === 1 ? 'pull' : 'pulls'}`),
                        copyButton(`docker pull ${ref}:${t.name}`, `Copy pull command for ${t.name}`, { class: 'btn small copy-tag' }),
                        can.del ? h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Delete tag ${t.name}`, on: { click: () => confirmDialog(`Delete tag ${t.name}?`, `The tag ${full}:${t.name} will be deleted; the artifact ${shortDigest(a.digest)} stays.`, `Delete tag ${t.name}`, async () => {
                            await api.deleteTag(project, repo, a.digest, t.name);
                            notify(`Tag ${t.name} deleted.`);
                            await table.reload();
                        }) } }, 'Delete') : null)));
                },
            },
            { label: 'Size', cls: 'num', render: (a) => fmtBytes(a.size) },
            { label: 'Platforms', render: platforms },
            { label: 'Pushed', sort: 'push_time', render: (a) => timeEl(a.push_time) },
            { label: 'Last pull', sort: 'pull_time', render: (a) => timeEl(a.pull_time) },
            { label: 'Pulls', sort: 'pull_count', cls: 'num pulls', render: (a) => String(a.pull_count) },
            {
                label: 'Actions',
                render: (a) => h('span', { class: 'inline' }, h('button', { type: 'button', class: 'btn small history', 'aria-label': `Pull history of ${shortDigest(a.digest)}`, 'aria-controls': 'artifact-pulls', on: { click: () => showArtifact(a) } }, 'Pull history'),
                    can.del ? h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Delete artifact ${shortDigest(a.digest)}`, on: { click: () => confirmDialog(`Delete artifact ${shortDigest(a.digest)}?`, `The artifact ${full}@${a.digest}${(a.tags || []).length ? ` and its tags ${(a.tags || []).map((t) => t.name).join(', ')}` : ''} will be deleted.`, 'Delete artifact', async () => {
                    await api.deleteArtifact(project, repo, a.digest);
                    notify(`Artifact ${shortDigest(a.digest)} deleted.`);
                    await table.reload();
                }) } }, 'Delete') : null),
            },
        ],
    });
    const splits = [['tag', 'Tag'], ['artifact', 'Artifact'], ['user', 'User or robot'], ['client', 'Client']];
    const repoChart = pullsPanel({ scope: { project, repo }, title: 'Pulls of the repository', idPrefix: 'repo-pulls', splits });
    const artBox = h('div', { id: 'artifact-pulls' });
    let artChart = null;
    async function showArtifact(a) {
        clear(artBox);
        artChart = pullsPanel({ scope: { project, repo, reference: a.digest }, title: `Pulls of ${shortDigest(a.digest)}`, idPrefix: 'artifact-pulls', splits: splits.filter((x) => x[0] !== 'artifact') });
        artBox.appendChild(artChart.el);
        artBox.dataset.digest = a.digest;
        await artChart.reload();
        artChart.el.scrollIntoView({ block: 'nearest' });
    }
    main.append(
        h('p', { class: 'crumbs' }, h('a', { href: '#/projects' }, 'Projects'), ' / ', h('a', { href: `#/projects/${encodeURIComponent(project)}/repositories` }, project), ' / '),
        h('div', { class: 'page-head' }, h('h1', null, repo)),
        info ? h('dl', { class: 'facts' },
            h('dt', null, 'Artifacts'), h('dd', null, String(info.artifact_count)),
            h('dt', null, 'Pulls'), h('dd', { id: 'repo-pulls' }, String(info.pull_count)),
            h('dt', null, 'Last push'), h('dd', null, timeEl(info.update_time))) : null,
        h('section', { class: 'panel', 'aria-label': 'Artifacts' }, h('h2', null, 'Artifacts'), table.el),
        h('section', { class: 'panel', 'aria-label': 'Pulls' }, repoChart.el, artBox));
    await Promise.all([table.reload(), info ? repoChart.reload() : null]);
}
