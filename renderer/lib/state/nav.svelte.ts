/**
 * Where the person is: one of the sidebar's screens, mirrored in the address's hash so that a reload (or the
 * browser's back button under `sprout serve`) lands on the same screen.
 */
export const screens = ['home', 'task', 'library', 'labelling', 'settings'] as const;
export type Screen = (typeof screens)[number];

export const screenTitles: Record<Screen, string> = {
  home: 'Home',
  task: 'New task',
  library: 'Library',
  labelling: 'Labelling',
  settings: 'Settings',
};

function parse(hash: string): Screen {
  const name = hash.replace(/^#\/?/, '').split('/')[0];
  return (screens as readonly string[]).includes(name) ? (name as Screen) : 'home';
}

export class Nav {
  screen = $state<Screen>(parse(location.hash));

  constructor() {
    addEventListener('hashchange', () => (this.screen = parse(location.hash)));
  }

  go(screen: Screen): void {
    this.screen = screen;
    if (parse(location.hash) !== screen || !location.hash) history.pushState(null, '', `#/${screen}`);
  }
}
