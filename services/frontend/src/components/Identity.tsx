import { createResource, Show } from 'solid-js';
import { api } from '../api.ts';

/** The signed-in user (ALB authentication on AWS) and the sign-out link; nothing when not signed in. */
export function Identity() {
  const [me] = createResource(() => api.identity().catch(() => ({ signedIn: false }) as const));
  return (
    <Show when={me()?.signedIn ? me() : undefined}>
      {(user) => {
        const u = user() as Extract<NonNullable<ReturnType<typeof me>>, { signedIn: true }>;
        return (
          <span class="identity">
            <span title={u.email ?? u.name}>{u.name}</span>
            <a href={u.signOutUrl}>Sign out</a>
          </span>
        );
      }}
    </Show>
  );
}
