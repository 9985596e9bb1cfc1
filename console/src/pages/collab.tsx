// Read views of the collaboration domains: channels, projects, flows, boards and stored assets.
import { Async, Badge, items, PageHeader, Time, useLoad } from '../ui.tsx';
import { Table } from './table.tsx';

type Row = Record<string, any>;
const text = (v: unknown) => (v === undefined || v === null || v === '' ? '—' : String(v));

export function ChannelsPage() {
  const state = useLoad((k) => k.channels.list().then((r) => r.channels as Row[]), [], 10_000);
  return (
    <section>
      <PageHeader title="Channels" />
      <Async state={state}>
        {(rows) => (
          <Table
            caption="Channels"
            rows={rows}
            rowKey={(r) => r.channel_id ?? r.id}
            columns={[
              { label: 'Channel', cell: (r) => r.name ?? r.channel_id },
              { label: 'Id', cell: (r) => <code>{r.channel_id ?? r.id}</code> },
              { label: 'Members', cell: (r) => text(r.member_count) },
              { label: 'Updated', cell: (r) => <Time ms={r.updated_at_ms} /> },
            ]}
          />
        )}
      </Async>
    </section>
  );
}

export function ProjectsPage() {
  const state = useLoad((k) => k.projects.list().then((r) => items<Row>(r)), [], 10_000);
  return (
    <section>
      <PageHeader title="Projects" />
      <Async state={state}>
        {(rows) => (
          <Table
            caption="Projects"
            rows={rows}
            rowKey={(r) => r.project_id}
            columns={[
              { label: 'Project', cell: (r) => r.name ?? r.project_id },
              { label: 'Status', cell: (r) => <Badge value={text(r.status)} /> },
              { label: 'Updated', cell: (r) => <Time ms={r.updated_at_ms} /> },
            ]}
          />
        )}
      </Async>
    </section>
  );
}

export function FlowsPage() {
  const state = useLoad(
    async (k) => ({
      flows: items<Row>(await k.flows.list()),
      playbooks: items<Row>(await k.playbooks.list()),
    }),
    [],
    10_000,
  );
  return (
    <section>
      <PageHeader title="Flows and playbooks" />
      <Async state={state}>
        {(d) => (
          <>
            <h2>Flows</h2>
            <Table
              caption="Flows"
              rows={d.flows}
              rowKey={(r) => r.flow_id}
              columns={[
                { label: 'Flow', cell: (r) => <code>{r.flow_id}</code> },
                { label: 'Playbook', cell: (r) => text(r.playbook_id) },
                { label: 'Status', cell: (r) => <Badge value={text(r.status)} /> },
                { label: 'Started', cell: (r) => <Time ms={r.created_at_ms} /> },
              ]}
            />
            <h2>Playbooks</h2>
            <Table
              caption="Playbooks"
              rows={d.playbooks}
              rowKey={(r) => r.playbook_id}
              columns={[
                { label: 'Playbook', cell: (r) => r.name ?? r.playbook_id },
                { label: 'Release', cell: (r) => <Badge value={text(r.status ?? r.release_status)} /> },
                { label: 'Updated', cell: (r) => <Time ms={r.updated_at_ms} /> },
              ]}
            />
          </>
        )}
      </Async>
    </section>
  );
}

export function BoardsPage() {
  const state = useLoad((k) => k.boards.list().then((r) => items<Row>(r)), [], 10_000);
  return (
    <section>
      <PageHeader title="Boards" />
      <Async state={state}>
        {(rows) => (
          <Table
            caption="Boards"
            rows={rows}
            rowKey={(r) => r.board_id}
            columns={[
              { label: 'Board', cell: (r) => r.title ?? r.name ?? r.board_id },
              { label: 'Owner session', cell: (r) => text(r.owner_session_id) },
              { label: 'Revisions', cell: (r) => text(r.revision_count ?? r.head_sequence) },
              { label: 'Updated', cell: (r) => <Time ms={r.updated_at_ms} /> },
            ]}
          />
        )}
      </Async>
    </section>
  );
}

export function AssetsPage() {
  const state = useLoad((k) => k.assets.list({ limit: 100 }).then((r) => items<Row>(r)), [], 10_000);
  return (
    <section>
      <PageHeader title="Assets" />
      <Async state={state}>
        {(rows) => (
          <Table
            caption="Assets"
            rows={rows}
            rowKey={(r) => r.asset_id}
            columns={[
              { label: 'Name', cell: (r) => text(r.name ?? r.file_name) },
              { label: 'Type', cell: (r) => text(r.media_type ?? r.mime_type) },
              { label: 'Size', cell: (r) => text(r.size_bytes) },
              { label: 'Created', cell: (r) => <Time ms={r.created_at_ms} /> },
            ]}
          />
        )}
      </Async>
    </section>
  );
}
