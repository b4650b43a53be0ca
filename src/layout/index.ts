/**
 * `layout` as an SDK: the disk as snapd lays a gadget out (layOutGadget), and its renderings:
 * text for a terminal, one self-contained SVG, one self-contained HTML page, JSON numbers.
 */
import {formatLayoutHtml} from './html.js'
import {formatLayoutJson} from './json.js'
import type {DiskLayout} from './model.js'
import {formatLayoutSvg} from './svg.js'
import {formatLayoutText} from './text.js'

export {type DiskLayout, type DiskRange, type LaidOutImage, type LaidOutStructure, type LaidOutVolume, layOutGadget, type LayoutMark, type LayoutOptions, partitionTableOf, type SectorSize} from './model.js'
export {partitionTypeName} from './partition-types.js'

type LayoutFormat = 'text' | 'svg' | 'html' | 'json'

export function renderLayout(layout: DiskLayout, format: LayoutFormat, options: {color?: boolean; width?: number} = {}): string {
  switch (format) {
    case 'html': {
      return formatLayoutHtml(layout)
    }

    case 'json': {
      return formatLayoutJson(layout)
    }

    case 'svg': {
      return formatLayoutSvg(layout)
    }

    default: {
      return formatLayoutText(layout, {color: options.color ?? false, width: options.width ?? 80})
    }
  }
}
