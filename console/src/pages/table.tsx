// A read-only table of records, the shape of most list views (columns pick fields or render).
import type { ComponentChildren } from 'preact';
import { Empty } from '../ui.tsx';

export interface Column<T> {
  label: string;
  cell(row: T): ComponentChildren;
}

export function Table<T>(props: {
  rows: T[];
  columns: Column<T>[];
  caption: string;
  rowKey(row: T): string;
  empty?: string;
}) {
  if (props.rows.length === 0)
    return <Empty>{props.empty ?? `No ${props.caption.toLowerCase()} yet.`}</Empty>;
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.label} scope="col">
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr key={props.rowKey(row)}>
              {props.columns.map((c) => (
                <td key={c.label}>{c.cell(row)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
